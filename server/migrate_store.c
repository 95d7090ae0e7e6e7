/* migrate_store.c - `kinerjad migrate-store` (see migrate_store.h).
 *
 * The copy goes through db.h: the SQLite store exports each table of
 * kjs_db_tables (kjs_db_sqlite_bulk), the PostgreSQL store imports it
 * (kjs_db_pg_bulk: COPY), all inside one write transaction of the target,
 * so a failed or refused copy leaves the target as it was.  The source is
 * read in one snapshot while this process holds the data directory's lock
 * (kinerjad.db.mark, exclusively: restore's lock), so no kinerjad runs on it.
 */
#include "migrate_store.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "admin_bkd.h"
#include "hlc.h"
#include "log.h"
#include "plat.h"
#include "store.h"
#include "text.h"

void kjs_migrate_result_init(kjs_migrate_result *r) {
  memset(r, 0, sizeof *r);
  kj_buf_init(&r->diffs, KJ_BUF_UNLIMITED);
}

void kjs_migrate_result_release(kjs_migrate_result *r) {
  kj_buf_release(&r->diffs);
}

#ifdef KJS_HAVE_PG
/* ---------------------------------------------------------------------- */
/* the copy of one table */

typedef struct copy_ctx {
  const kjs_db_bulk *dst;
  kjs_dbc *dc;
  const kjs_db_table *t;
  long long rows;
  FILE *progress; /* a line every KJS_MIGRATE_PROGRESS_ROWS rows */
  kj_err *err;
} copy_ctx;

#define KJS_MIGRATE_PROGRESS_ROWS 100000

static kj_code copy_row(void *ctx, const kjs_db_cell *row) {
  copy_ctx *x = ctx;
  if (++x->rows % KJS_MIGRATE_PROGRESS_ROWS == 0 && x->progress) {
    fprintf(x->progress, "  %-15s %10lld rows so far\n", x->t->name, x->rows);
    fflush(x->progress);
  }
  return x->dst->import_row(x->dc, x->t, row, x->err);
}

static kj_code copy_table(const kjs_db_table *t, kjs_dbc *sc, kjs_dbc *dc, FILE *progress,
                          long long *rows, kj_err *err) {
  copy_ctx x = {.dst = &kjs_db_pg_bulk, .dc = dc, .t = t, .progress = progress, .err = err};
  kj_code rc = kjs_db_pg_bulk.import_begin(dc, t, err);
  if (rc)
    return rc;
  rc = kjs_db_sqlite_bulk.export_rows(sc, t, copy_row, &x, err);
  kj_code r2 = kjs_db_pg_bulk.import_end(dc, t, rc == KJ_OK, rc ? NULL : err);
  *rows = x.rows;
  return rc ? rc : r2;
}

/* ---------------------------------------------------------------------- */
/* kinerjad.conf: `store = URL` */

/* 1 when line sets key store ("store = ...", spaces allowed). */
static int is_store_line(const char *line) {
  while (*line == ' ' || *line == '\t')
    line++;
  if (strncmp(line, "store", 5) != 0)
    return 0;
  line += 5;
  while (*line == ' ' || *line == '\t')
    line++;
  return *line == '=';
}

/* Rewrite conf with `store = url`: an existing store line is kept as a
 * comment; written to conf.tmp (the file's mode), fsynced, renamed over
 * conf, the directory fsynced. */
static kj_code switch_config(const char *conf, const char *url, const char *from, kj_err *err) {
  FILE *f = fopen(conf, "r");
  if (!f)
    return kj_fail(err, KJ_EIO, "cannot read '%s': %s", conf, strerror(errno));
  struct stat st;
  mode_t mode = fstat(fileno(f), &st) == 0 ? (st.st_mode & 0777) : 0600;
  kj_buf b;
  kj_buf_init(&b, 1u << 20);
  char line[4096 + 64];
  int ok = 1;
  while (ok && fgets(line, sizeof line, f)) {
    if (is_store_line(line))
      ok = kj_buf_adds(&b, "# before migrate-store: ") == KJ_OK;
    ok = ok && kj_buf_adds(&b, line) == KJ_OK;
  }
  if (ferror(f))
    ok = 0;
  fclose(f);
  char when[32];
  kjs_adm_time((double)kj_wall_ms(), when, sizeof when);
  if (ok && b.len && kj_buf_str(&b)[b.len - 1] != '\n')
    ok = kj_buf_adds(&b, "\n") == KJ_OK;
  ok = ok && kj_buf_addf(&b,
                         "\n# The store (records, devices, tokens, people, scores): PostgreSQL,\n"
                         "# copied from %s by 'kinerjad migrate-store' at %s.\n"
                         "store = %s\n",
                         from, when, url) == KJ_OK;
  if (!ok) {
    kj_buf_release(&b);
    return kj_fail(err, KJ_EIO, "cannot read '%s' whole", conf);
  }
  char tmp[KJS_PATH_MAX + 8];
  snprintf(tmp, sizeof tmp, "%s.tmp", conf);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  kj_code rc = KJ_OK;
  if (fd < 0)
    rc = kj_fail(err, KJ_EIO, "cannot write '%s': %s", tmp, strerror(errno));
  else {
    size_t off = 0;
    while (!rc && off < b.len) {
      ssize_t n = write(fd, kj_buf_str(&b) + off, b.len - off);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        rc = kj_fail(err, KJ_EIO, "cannot write '%s': %s", tmp, strerror(errno));
      else
        off += (size_t)n;
    }
    if (!rc && fsync(fd) != 0)
      rc = kj_fail(err, KJ_EIO, "cannot sync '%s': %s", tmp, strerror(errno));
    close(fd);
    if (!rc && rename(tmp, conf) != 0)
      rc = kj_fail(err, KJ_EIO, "cannot rename '%s' to '%s': %s", tmp, conf, strerror(errno));
    if (rc)
      unlink(tmp);
  }
  kj_buf_release(&b);
  if (!rc) {
    char dir[KJS_PATH_MAX];
    snprintf(dir, sizeof dir, "%s", conf);
    char *slash = strrchr(dir, '/');
    if (slash)
      *slash = 0;
    kj_err ignored; /* best effort, as before: the file itself is durable */
    (void)kj_dir_sync(slash ? dir : ".", &ignored);
  }
  return rc;
}

/* ---------------------------------------------------------------------- */

/* The store's columns against kjs_db_tables: a column the copy would leave
 * behind, or one it would look for in vain, refuses the migration. */
typedef struct schema_ctx {
  const char *store;
  int seen[KJS_MIGRATE_TABLES_MAX];
  kj_err *err;
} schema_ctx;

static kj_code schema_col(void *ctx, const char *table, const char *column) {
  schema_ctx *x = ctx;
  for (int i = 0; i < kjs_db_ntables; i++) {
    const kjs_db_table *t = &kjs_db_tables[i];
    if (strcmp(t->name, table) != 0)
      continue;
    for (int k = 0; k < t->ncols; k++) {
      if (!strcmp(t->cols[k], column)) {
        x->seen[i]++;
        return KJ_OK;
      }
    }
    break;
  }
  return kj_fail(x->err, KJ_EVERSION,
                 "the %s store has %s.%s, which this kinerjad's migrate-store does not copy: "
                 "use the kinerjad that made it",
                 x->store, table, column);
}

static kj_code schema_check(const kjs_db_bulk *b, kjs_dbc *c, const char *store, kj_err *err) {
  schema_ctx x = {.store = store, .err = err};
  kj_code rc = b->columns(c, schema_col, &x, err);
  for (int i = 0; !rc && i < kjs_db_ntables; i++) {
    if (x.seen[i] != kjs_db_tables[i].ncols)
      rc = kj_fail(err, KJ_EVERSION,
                   "the %s store lacks columns of table %s (%d of %d): not a kinerjad store of "
                   "this version",
                   store, kjs_db_tables[i].name, x.seen[i], kjs_db_tables[i].ncols);
  }
  return rc;
}

static void progress(const kjs_migrate_opts *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void progress(const kjs_migrate_opts *o, const char *fmt, ...) {
  if (!o->progress)
    return;
  va_list ap;
  va_start(ap, fmt);
  vfprintf(o->progress, fmt, ap);
  va_end(ap);
  fflush(o->progress);
}

/* The copy and its check inside the target's transaction: KJ_OK with
 * r->passed set (the caller commits or rolls back), or an error. */
static kj_code copy_all(kjs_dbc *sc, kjs_dbc *dc, const kjs_migrate_opts *o, kjs_migrate_result *r,
                        kj_err *err) {
  const kjs_db_ops *D = &kjs_db_pg_ops;
  kj_code rc;
  if ((rc = kjs_db_sqlite_bulk.schema_version(sc, &r->src_version, err)) ||
      (rc = kjs_db_pg_bulk.schema_version(dc, &r->dst_version, err)))
    return rc;
  if ((rc = schema_check(&kjs_db_sqlite_bulk, sc, "SQLite", err)) ||
      (rc = schema_check(&kjs_db_pg_bulk, dc, "PostgreSQL", err)))
    return rc;
  /* an empty target: no rows but the first epoch its schema made */
  for (int i = 0; i < kjs_db_ntables; i++) {
    const kjs_db_table *t = &kjs_db_tables[i];
    long long n = 0;
    if ((rc = kjs_db_pg_bulk.count(dc, t, &n, err)))
      return rc;
    if (n > (strcmp(t->name, "epochs") == 0 ? 1 : 0))
      return kj_fail(err, KJ_EEXIST,
                     "the PostgreSQL database already holds kinerjad data (table %s: %lld rows): "
                     "migrate-store copies into an empty database only; empty it (dropdb NAME; "
                     "createdb -O USER -E UTF8 --locale C.UTF-8 -T template0 NAME) or name a "
                     "new one",
                     t->name, n);
  }
  for (int i = 0; i < kjs_db_ntables; i++) {
    if (!strcmp(kjs_db_tables[i].name, "epochs") &&
        (rc = kjs_db_pg_bulk.clear(dc, &kjs_db_tables[i], err)))
      return rc;
  }
  progress(o, "copying the SQLite store (schema %lld) into PostgreSQL (schema %lld)\n",
           r->src_version, r->dst_version);
  for (int i = 0; i < kjs_db_ntables; i++) {
    const kjs_db_table *t = &kjs_db_tables[i];
    uint64_t t0 = kj_wall_ms();
    if ((rc = kjs_db_sqlite_bulk.count(sc, t, &r->src[i], err)) ||
        (rc = copy_table(t, sc, dc, o->progress, &r->copied[i], err)))
      return rc;
    progress(o, "  %-15s %10lld rows  %6.1f s\n", t->name, r->copied[i],
             (double)(kj_wall_ms() - t0) / 1000.0);
  }
  if (o->before_check && (rc = o->before_check(o->hook_ctx, D, dc, err)))
    return rc;
  /* the check: counts on both sides ... */
  for (int i = 0; i < kjs_db_ntables; i++) {
    const kjs_db_table *t = &kjs_db_tables[i];
    if ((rc = kjs_db_pg_bulk.count(dc, t, &r->dst[i], err)))
      return rc;
    if (r->src[i] != r->copied[i] || r->src[i] != r->dst[i]) {
      r->ndiff_counts++;
      kj_buf_addf(&r->diffs, "%s: %lld rows in SQLite, %lld copied, %lld in PostgreSQL\n", t->name,
                  r->src[i], r->copied[i], r->dst[i]);
    }
  }
  /* ... and recompute --verify on the copy */
  progress(o, "checking: rows per table, then the scores recomputed from the copied records\n");
  if ((rc = D->score_rebuild(dc, 1, &r->diffs, &r->ndiff_scores, err)))
    return rc;
  if ((rc = D->position_max(dc, &r->position, err)) ||
      (rc = D->epoch_current(dc, r->epoch, sizeof r->epoch, err)))
    return rc;
  r->passed = r->ndiff_counts == 0 && r->ndiff_scores == 0;
  return KJ_OK;
}

static kj_code migrate_pg(const kjs_config *cfg, const kjs_migrate_opts *o, kjs_migrate_result *r,
                          kj_err *err);
#endif

kj_code kjs_migrate_store(const kjs_config *cfg, const kjs_migrate_opts *o, kjs_migrate_result *r,
                          kj_err *err) {
  r->ntables = kjs_db_ntables;
  r->passed = r->switched = 0;
  if (kjs_db_ntables > KJS_MIGRATE_TABLES_MAX)
    KJ_BUG("kjs_db_tables has more than KJS_MIGRATE_TABLES_MAX tables");
  if (kjs_db_is_pg(cfg->db_file))
    return kj_fail(err, KJ_EINVAL,
                   "the store is PostgreSQL already ('store' in %s): nothing to migrate",
                   cfg->conf_file);
  if (!o->to || !kjs_db_is_pg(o->to))
    return kj_fail(err, KJ_EINVAL, "--to '%s': expected postgresql://USER@HOST/DB",
                   o->to ? o->to : "");
  if (strlen(o->to) >= sizeof cfg->db_file)
    return kj_fail(err, KJ_EINVAL, "--to: the URL is too long");
#ifndef KJS_HAVE_PG
  return kj_fail(err, KJ_EINVAL, "this kinerjad was built without PostgreSQL (libpq)");
#else
  return migrate_pg(cfg, o, r, err);
#endif
}

#ifdef KJS_HAVE_PG
static kj_code migrate_pg(const kjs_config *cfg, const kjs_migrate_opts *o, kjs_migrate_result *r,
                          kj_err *err) {
  if (access(cfg->db_file, F_OK) != 0)
    return kj_fail(err, KJ_ENOENT, "no database at '%s'", cfg->db_file);
  /* the data directory's lock: every open store holds it shared */
  char mark[KJS_PATH_MAX + 16];
  snprintf(mark, sizeof mark, "%s%s", cfg->db_file, KJS_MARK_SUFFIX);
  int fd = open(mark, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    return kj_fail(err, KJ_EIO, "cannot open '%s': %s", mark, strerror(errno));
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    close(fd);
    return kj_fail(err, KJ_EBUSY,
                   "kinerjad is running on this data directory (or another kinerjad command "
                   "is): stop it first (systemctl stop kinerjad), then run migrate-store again");
  }
  /* opened once as serve opens it: migrations, the token journal re-applied */
  kjs_store *st = NULL;
  kj_code rc = kjs_store_open(&st, cfg->db_file, cfg, 0, err);
  kjs_store_close(st);
  kjs_db *src = NULL, *dst = NULL;
  kjs_dbc *sc = NULL, *dc = NULL;
  if (!rc)
    rc = kjs_db_sqlite_ops.open(cfg->db_file, 0, &src, err);
  if (!rc && !(sc = kjs_db_sqlite_ops.acquire(src, err)))
    rc = err && err->code ? err->code : KJ_EDB;
  if (!rc)
    rc = kjs_db_sqlite_ops.begin(sc, 0, err);
  if (!rc && (rc = kjs_db_pg_ops.open(o->to, 1, &dst, err)) && err) {
    char m[KJ_ERR_MSG_MAX];
    snprintf(m, sizeof m, "%s", err->msg);
    if (strstr(m, "PostgreSQL store"))
      kj_fail(err, rc, "%s", m); /* db_pg.c named it already */
    else
      kj_fail(err, rc, "the PostgreSQL store: %s", m);
  }
  if (!rc && !(dc = kjs_db_pg_ops.acquire(dst, err)))
    rc = err && err->code ? err->code : KJ_EDB;
  if (!rc)
    rc = kjs_db_pg_ops.begin(dc, 1, err);
  if (!rc && !(rc = copy_all(sc, dc, o, r, err)) && r->passed)
    rc = kjs_db_pg_ops.commit(dc, err);
  if (dc && (rc || !r->passed))
    kjs_db_pg_ops.rollback(dc);
  if (sc)
    kjs_db_sqlite_ops.rollback(sc);
  if (dc)
    kjs_db_pg_ops.release(dst, dc);
  if (sc)
    kjs_db_sqlite_ops.release(src, sc);
  if (dst)
    kjs_db_pg_ops.close(dst);
  if (src)
    kjs_db_sqlite_ops.close(src);
  if (!rc && r->passed) {
    kj_err e2;
    kj_err_clear(&e2);
    if (switch_config(cfg->conf_file, o->to, cfg->db_file, &e2))
      rc =
          kj_fail(err, KJ_EIO, "the copy is in PostgreSQL, but %s: set `store = URL` in %s by hand",
                  e2.msg, cfg->conf_file);
    else
      r->switched = 1;
  }
  close(fd);
  return rc;
}
#endif

/* ---------------------------------------------------------------------- */
/* the command */

static const char help_text[] =
    "usage: kinerjad [--data DIR] migrate-store --to postgresql://USER@HOST/DB\n\n"
    "Copy this data directory's SQLite store (records, change positions, exactly-once\n"
    "rows, devices and tokens, people, enrolment codes, device reports, conflict\n"
    "log, history, imports, epochs and scores) into an empty PostgreSQL database,\n"
    "in one transaction, and check the copy: every table's rows counted on both\n"
    "sides, and the scores recomputed from the copied records equal to the copied\n"
    "scores (recompute --verify).  Only when the check passes is the copy committed\n"
    "and `store = URL` set in kinerjad.conf; the SQLite file stays as it was.\n"
    "Devices sync on as before: same positions, same epoch, same tokens.\n"
    "Stop 'kinerjad serve' first: migrate-store refuses while any kinerjad process\n"
    "uses the data directory, and a database that holds kinerjad data already.\n\n"
    "  --to URL     the target PostgreSQL database (empty; the schema is made)\n"
    "  --data DIR   data directory (default $KINERJAD_DATA, else ./kinerjad-data)\n\n"
    "exit status: 0 copied, checked and switched; 1 not done (the check failed, or\n"
    "refused, or PostgreSQL unreachable): nothing switched; 2 usage.\n"
    "\nexample: systemctl stop kinerjad && kinerjad --data /var/lib/kinerjad migrate-store "
    "--to postgresql://kinerjad@db.example/kinerja\n";

static int usage(const char *msg, const char *to) {
  kjs_adm_error("migrate-store: %s%s%s (see 'kinerjad migrate-store --help')", to ? "--to '" : "",
                to ? to : "", msg);
  return 2;
}

int kjs_migrate_store_main(int argc, char **argv) {
  kj_log_init("kinerjad");
  signal(SIGPIPE, SIG_IGN);
  const char *data = NULL, *to = NULL;
  static const char *const known[] = {"--to", "--data", "--help", NULL};
  int seen_cmd = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--data") || !strcmp(a, "--to")) {
      if (i + 1 >= argc) {
        kjs_adm_bad_arg("migrate-store", a, known);
        return 2;
      }
      if (!strcmp(a, "--data"))
        data = argv[++i];
      else
        to = argv[++i];
    } else if (!strncmp(a, "--data=", 7)) {
      data = a + 7;
    } else if (!strncmp(a, "--to=", 5)) {
      to = a + 5;
    } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      fputs(help_text, stdout);
      return 0;
    } else if (!seen_cmd && !strcmp(a, "migrate-store")) {
      seen_cmd = 1;
    } else {
      kjs_adm_bad_arg("migrate-store", a, known);
      return 2;
    }
  }
  if (!to)
    return usage("which database? --to postgresql://USER@HOST/DB is needed", NULL);
  if (!kjs_db_is_pg(to))
    return usage("': expected postgresql://USER@HOST/DB", to);
  kjs_config cfg;
  kj_err e;
  kj_err_clear(&e);
  if (kjs_config_init(&cfg, data, &e)) {
    kjs_adm_error("%s", e.msg);
    return 1;
  }
  kj_code rc = kjs_config_load(&cfg, &e);
  if (rc) {
    if (rc == KJ_ENOENT)
      kjs_adm_error("no kinerjad data directory at '%s': run 'kinerjad init' first", cfg.data_dir);
    else
      kjs_adm_error("%s", e.msg);
    kjs_config_release(&cfg);
    return 1;
  }
  kjs_migrate_opts o = {.to = to, .progress = stdout};
  kjs_migrate_result r;
  kjs_migrate_result_init(&r);
  rc = kjs_migrate_store(&cfg, &o, &r, &e);
  int status = 0;
  if (rc) {
    kjs_adm_error("migrate-store: %s", e.msg);
    status = 1;
  } else if (!r.passed) {
    /* one line per difference, each escaped: rows' text from the database */
    char *save = NULL;
    for (char *line = r.diffs.data ? strtok_r(r.diffs.data, "\n", &save) : NULL; line;
         line = strtok_r(NULL, "\n", &save)) {
      kj_term_fputs(line, stdout);
      fputc('\n', stdout);
    }
    kjs_adm_error("migrate-store: the check failed (%d tables with other counts, %d score rows "
                  "differ): nothing was committed, the store is still %s",
                  r.ndiff_counts, r.ndiff_scores, cfg.db_file);
    if (r.ndiff_scores && !r.ndiff_counts)
      kjs_adm_error("migrate-store: if 'kinerjad recompute --verify' finds the same on the "
                    "SQLite store, run 'kinerjad recompute' there first");
    status = 1;
  } else {
    long long total = 0;
    for (int i = 0; i < r.ntables; i++)
      total += r.dst[i];
    printf("checked: %d tables, %lld rows, the same counts on both sides; scores recomputed "
           "from the records match\n",
           r.ntables, total);
    printf("positions up to %" PRId64 ", epoch %s: devices continue where they were\n", r.position,
           r.epoch);
    printf("%s now names the PostgreSQL store; the SQLite database %s is kept\n", cfg.conf_file,
           cfg.db_file);
  }
  kjs_migrate_result_release(&r);
  kjs_config_release(&cfg);
  return status;
}
