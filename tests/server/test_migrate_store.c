/* test_migrate_store.c - `kinerjad migrate-store` (issue 19): an SQLite
 * server filled through real pushes (offices, employees, surveys of two
 * offices, a conflict, users, an enrolment code, a device report, a revoked
 * token) copied to PostgreSQL by the real kinerjad; the same app then runs
 * on the PostgreSQL store and a device syncs on as before (its pull cursor
 * continues, its replayed push is answered from the applied table, not
 * applied again, a rule's refusal with its code), reports and listings byte for byte the same, the
 * revoked token still refused.  Refusals (a running kinerjad, a target with data, usage, an
 * unreachable server) and broken copies (a record and a conflict row changed before the check
 * through the test hook) leave kinerjad.conf and the target untouched.  Needs the `pg` fixture
 * (exit 77 without). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>
#include <cmocka.h>

#include "hlc.h"
#include "migrate_store.h"
#include "pgtest.h"
#include "test_app_util.h"

#define T0 1767225600000ULL /* 2026-01-01T00:00:00Z */
#define NIP_A "198503012020112001"

static void push1(tapp *t, tresp *r, const char *token, const char *change, const char *want) {
  tpush(t, r, token, &change, 1);
  assert_string_equal(tjstr(tresult(r, 0), "status"), want);
  tresp_release(r);
}

/* a master-data change (office or employee) from the admin */
static char *master(long long seq, const char *type, const char *id, const char *fields) {
  char *s = malloc(1024);
  assert_non_null(s);
  snprintf(s, 1024, "{\"seq\":%lld,\"id\":\"%s\",\"type\":\"%s\",\"hlc\":\"%llu\",\"f\":{%s}}", seq,
           id, type, (unsigned long long)KJ_HLC_MAKE(T0 + (unsigned long long)seq, 0), fields);
  return s;
}

static char *slurp(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return strdup("");
  char *s = malloc(1 << 20);
  assert_non_null(s);
  size_t n = fread(s, 1, (1 << 20) - 1, f);
  s[n] = 0;
  fclose(f);
  return s;
}

/* Run kinerjad with args (a shell-quoted tail); its stdout+stderr into
 * *out (caller frees); returns the exit status. */
static int kjd(const tapp *t, char **out, const char *fmt, ...) {
  char args[2048], cmd[4096], outp[300];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(args, sizeof args, fmt, ap);
  va_end(ap);
  snprintf(outp, sizeof outp, "%s/out.txt", t->dir);
  snprintf(cmd, sizeof cmd, "'%s' --data '%s' %s >'%s' 2>&1", KINERJAD_BIN, t->dir, args, outp);
  int st = system(cmd);
  *out = slurp(outp);
  unlink(outp);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static void write_conf(tapp *t) {
  FILE *f = fopen(t->cfg.conf_file, "w");
  assert_non_null(f);
  fputs(kjs_config_default_text(), f);
  fclose(f);
}

/* the files a migration leaves beside tapp's */
static void cleanup(tapp *t) {
  const char *names[] = {"kinerjad.db.mark", "kinerjad.db.tokens", "kinerjad.conf.tmp"};
  char p[512];
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    snprintf(p, sizeof p, "%s/%s", t->dir, names[i]);
    unlink(p);
  }
}

static void url_of(const char *db, char *url, size_t size) {
  snprintf(url, size, "%s&dbname=%s", kjt_pg_url(), db);
}

static long long pg_count(const char *db, const char *table) {
  char url[1200], sql[128];
  url_of(db, url, sizeof url);
  PGconn *c = PQconnectdb(url);
  assert_int_equal(PQstatus(c), CONNECTION_OK);
  snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
  PGresult *r = kjt_pg_exec(c, sql);
  long long n = atoll(PQgetvalue(r, 0, 0));
  PQclear(r);
  PQfinish(c);
  return n;
}

/* An SQLite server with data, through real pushes; *replay the body of
 * dev_a's first batch (caller frees). */
static void seed(tapp *t, char **replay) {
  tresp r;
  char *m[5];
  m[0] = master(1, "office", OFFICE_A, "\"name\":\"Kasemen\",\"region\":\"Serang\"");
  m[1] = master(2, "office", OFFICE_B,
                "\"name\":\"Cipocok Jaya\",\"region\":\"Serang\",\"population\":\"1000\"");
  m[2] = master(3, "employee", NIP_A,
                "\"name\":\"Nur Dewi\",\"office\":\"" OFFICE_A "\",\"position\":\"Analis\"");
  tpush(t, &r, t->admin, (const char *const *)m, 3);
  for (int i = 0; i < 3; i++) {
    assert_string_equal(tjstr(tresult(&r, i), "status"), "applied");
    free(m[i]);
  }
  tresp_release(&r);
  /* dev_a: three surveys in one batch (kept to send again), and one dated
   * in 2099 that a rule refuses (its refusal kept in the applied row) */
  char *c[4];
  for (int i = 0; i < 3; i++)
    c[i] = survey_change(i + 1, tuid(i + 1), OFFICE_A, T0 + (unsigned long long)i, 4 - i);
  c[3] = survey_change(100, tuid(9), OFFICE_A, T0 + 3, 4);
  memcpy(strstr(c[3], "2026-02-03"), "2099", 4);
  *replay = push_body((const char *const *)c, 4);
  tcall(t, &r, "POST", "/v1/push", NULL, t->dev_a, *replay);
  assert_int_equal(r.status, 200);
  assert_int_equal(r.push_records, 3);
  assert_string_equal(tjstr(tresult(&r, 3), "code"), "date_future");
  tresp_release(&r);
  for (int i = 0; i < 4; i++)
    free(c[i]);
  /* a conflict: dev_a2 sets u1 later, dev_a's older edit of u1 loses */
  char e[256];
  snprintf(e, sizeof e,
           "{\"seq\":1,\"id\":\"%s\",\"type\":\"survey\",\"hlc\":\"%llu\",\"f\":{\"u1\":\"2\"}}",
           tuid(1), (unsigned long long)KJ_HLC_MAKE(T0 + 100, 0));
  push1(t, &r, t->dev_a2, e, "applied");
  snprintf(e, sizeof e,
           "{\"seq\":4,\"id\":\"%s\",\"type\":\"survey\",\"hlc\":\"%llu\",\"f\":{\"u1\":\"3\","
           "\"u2\":\"1\"}}",
           tuid(1), (unsigned long long)KJ_HLC_MAKE(T0 + 50, 0));
  push1(t, &r, t->dev_a, e, "applied");
  /* dev_b: two surveys of office B */
  for (int i = 0; i < 2; i++) {
    char *s = survey_change(i + 1, tuid(10 + i), OFFICE_B, T0 + 200, 3);
    push1(t, &r, t->dev_b, s, "applied");
    free(s);
  }
  /* people, an enrolment code, a device report, a revoked token */
  kj_err err;
  kj_err_clear(&err);
  assert_int_equal(kjs_store_user_add(t->store, "bkd", "admin", "$argon2id$v=19$fake", &err),
                   KJ_OK);
  unsigned char h[32], sealed[48];
  memset(h, 7, sizeof h);
  memset(sealed, 9, sizeof sealed);
  assert_int_equal(kjs_store_enrol_add(t->store, h, "dev-b", sealed, sizeof sealed,
                                       (int64_t)kj_wall_ms() + 86400000, &err),
                   KJ_OK);
  tcall(t, &r, "GET", "/v1/pull", "since=0&version=0.2.0&pending=0&rejected=0", t->dev_b, NULL);
  assert_int_equal(r.status, 200);
  tresp_release(&r);
  assert_int_equal(kjs_store_token_revoke(t->store, "dev-a2", &err), KJ_OK);
}

/* What must be the same before and after: reports, listings, records. */
typedef struct snapshot {
  char *offices, *employees, *conflicts, *tokens, *users, *reports;
  char digest[65];
} snapshot;

static char *json_text(cJSON *j) {
  char *s = cJSON_PrintUnformatted(j);
  cJSON_Delete(j);
  assert_non_null(s);
  return s;
}

static void snap(tapp *t, snapshot *s) {
  tresp r;
  tcall(t, &r, "GET", "/v1/reports/offices", "period=2026&as_of=2026-03-31", t->viewer, NULL);
  assert_int_equal(r.status, 200);
  s->offices = strdup(r.body);
  tresp_release(&r);
  tcall(t, &r, "GET", "/v1/reports/employees", "period=2026&office=" OFFICE_A, t->viewer, NULL);
  assert_int_equal(r.status, 200);
  s->employees = strdup(r.body);
  tresp_release(&r);
  kj_err e;
  kj_err_clear(&e);
  cJSON *j;
  assert_int_equal(kjs_store_conflicts(t->store, &j, &e), KJ_OK);
  assert_true(cJSON_GetArraySize(j) >= 1);
  s->conflicts = json_text(j);
  assert_int_equal(kjs_store_token_list(t->store, 0, &j, &e), KJ_OK);
  s->tokens = json_text(j);
  assert_int_equal(kjs_store_user_list(t->store, &j, &e), KJ_OK);
  s->users = json_text(j);
  assert_int_equal(kjs_store_device_reports(t->store, &j, &e), KJ_OK);
  s->reports = json_text(j);
  tdigest(t, s->digest);
}

static void snap_free(snapshot *s) {
  free(s->offices);
  free(s->employees);
  free(s->conflicts);
  free(s->tokens);
  free(s->users);
  free(s->reports);
}

static void test_migrate(void **state) {
  (void)state;
  kjt_pg_url(); /* skip (77) without the cluster */
  tapp *t = tapp_new();
  write_conf(t);
  char *replay;
  seed(t, &replay);
  /* dev_a's pull before: the cursor and epoch it keeps */
  tresp r;
  tcall(t, &r, "GET", "/v1/pull", "since=0", t->dev_a, NULL);
  assert_int_equal(r.status, 200);
  int before_changes = cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "changes"));
  char cursor[32], epoch[64];
  snprintf(cursor, sizeof cursor, "%s", tjstr(r.json, "next"));
  snprintf(epoch, sizeof epoch, "%s", tjstr(r.json, "epoch") ? tjstr(r.json, "epoch") : "");
  tresp_release(&r);
  assert_true(before_changes >= 5); /* 2 offices, the employee, 3 surveys... */
  /* the replay answered on SQLite, to compare with PostgreSQL's answer */
  tcall(t, &r, "POST", "/v1/push", NULL, t->dev_a, replay);
  assert_int_equal(r.push_records, 0);
  char *replay_sqlite = cJSON_PrintUnformatted(cJSON_GetObjectItem(r.json, "results"));
  assert_string_equal(tjstr(tresult(&r, 3), "code"), "date_future"); /* copied with the row */
  tresp_release(&r);
  snapshot a, b;
  snap(t, &a);

  char db[64], url[1200];
  PQfinish(kjt_pg_fresh_db("kjt_migr", db, sizeof db));
  url_of(db, url, sizeof url);
  char *out;
  /* refused while a kinerjad holds the directory (this process's store) */
  assert_int_equal(kjd(t, &out, "migrate-store --to '%s'", url), 1);
  assert_non_null(strstr(out, "kinerjad is running on this data directory"));
  free(out);
  assert_int_equal(pg_count(db, "pg_tables WHERE tablename = 'records'"), 0);
  kjs_store_close(t->store);
  t->store = NULL;
  char *conf_before = slurp(t->cfg.conf_file);

  /* usage: 2, nothing done */
  assert_int_equal(kjd(t, &out, "migrate-store"), 2);
  assert_non_null(strstr(out, "--to postgresql://"));
  free(out);
  assert_int_equal(kjd(t, &out, "migrate-store --to /tmp/x.db"), 2);
  assert_non_null(strstr(out, "expected postgresql://"));
  free(out);
  assert_int_equal(kjd(t, &out, "migrate-store --to '%s' --fast", url), 2);
  assert_non_null(strstr(out, "unknown option '--fast'"));
  free(out);
  assert_int_equal(kjd(t, &out, "migrate-store --ot '%s'", url), 2);
  assert_non_null(strstr(out, "did you mean '--to'?"));
  free(out);
  assert_int_equal(kjd(t, &out, "migrate-store --help"), 0);
  assert_non_null(strstr(out, "usage: kinerjad [--data DIR] migrate-store --to"));
  free(out);
  assert_int_equal(kjd(t, &out, "--help"), 0);
  assert_non_null(strstr(out, "migrate-store --to URL"));
  free(out);
  /* an unreachable server: a clear message, 1 */
  assert_int_equal(kjd(t, &out, "migrate-store --to postgresql://kinerja@127.0.0.1:1/none"), 1);
  assert_non_null(strstr(out, "kinerjad: migrate-store: cannot connect to the PostgreSQL store: "));
  free(out);
  char *conf_now = slurp(t->cfg.conf_file);
  assert_string_equal(conf_now, conf_before);
  free(conf_now);

  /* the migration */
  int rc = kjd(t, &out, "migrate-store --to '%s'", url);
  if (rc != 0)
    fprintf(stderr, "%s", out);
  assert_int_equal(rc, 0);
  assert_non_null(strstr(out, "  records "));
  assert_non_null(strstr(out, "  sc_survey "));
  assert_non_null(strstr(out, "  sc_surveyyear ")); /* the year sums of the surveys, copied */
  assert_non_null(strstr(out, "checked: 25 tables"));
  assert_null(strstr(out, url)); /* the URL (a password?) is not printed */
  free(out);
  /* the config names the new store; the SQLite file is kept */
  kj_err e;
  kj_err_clear(&e);
  kjs_config cfg;
  assert_int_equal(kjs_config_init(&cfg, t->dir, &e), KJ_OK);
  assert_int_equal(kjs_config_load(&cfg, &e), KJ_OK);
  assert_string_equal(cfg.db_file, url);
  kjs_config_release(&cfg);
  assert_int_equal(access(t->cfg.db_file, F_OK), 0);
  conf_now = slurp(t->cfg.conf_file);
  assert_non_null(strstr(conf_now, "listen = 127.0.0.1:8443")); /* the rest kept */
  free(conf_now);

  /* the same app on the PostgreSQL store */
  snprintf(t->pg_db, sizeof t->pg_db, "%s", db); /* tapp_free drops it */
  char sqlite_file[KJS_PATH_MAX];
  snprintf(sqlite_file, sizeof sqlite_file, "%s", t->cfg.db_file);
  snprintf(t->cfg.db_file, sizeof t->cfg.db_file, "%s", url);
  assert_int_equal(kjs_store_open(&t->store, url, &t->cfg, 0, &e), KJ_OK);
  assert_string_equal(kjs_store_backend(t->store), "postgresql");
  kjs_app_init(&t->app, t->store, &t->cfg);
  snap(t, &b);
  assert_string_equal(a.offices, b.offices);
  assert_string_equal(a.employees, b.employees);
  assert_string_equal(a.conflicts, b.conflicts);
  assert_string_equal(a.tokens, b.tokens);
  assert_string_equal(a.users, b.users);
  assert_string_equal(a.reports, b.reports);
  assert_string_equal(a.digest, b.digest);
  assert_non_null(strstr(b.offices, "Kasemen"));
  /* the revoked token stays revoked; the others work */
  tcall(t, &r, "GET", "/v1/hello", NULL, t->dev_a2, NULL);
  assert_int_equal(r.status, 401);
  tresp_release(&r);
  tcall(t, &r, "GET", "/v1/hello", NULL, t->dev_a, NULL);
  assert_int_equal(r.status, 200);
  tresp_release(&r);
  /* dev_a's replayed batch: answered from the applied table, as before */
  tcall(t, &r, "POST", "/v1/push", NULL, t->dev_a, replay);
  assert_int_equal(r.status, 200);
  assert_int_equal(r.push_records, 0);
  char *replay_pg = cJSON_PrintUnformatted(cJSON_GetObjectItem(r.json, "results"));
  tresp_release(&r);
  assert_string_equal(replay_sqlite, replay_pg);
  char d[65];
  tdigest(t, d);
  assert_string_equal(d, a.digest);
  /* its pull cursor continues: nothing new, then exactly the new change */
  char q[96];
  snprintf(q, sizeof q, "since=%s", cursor);
  tcall(t, &r, "GET", "/v1/pull", q, t->dev_a, NULL);
  assert_int_equal(r.status, 200);
  assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "changes")), 0);
  assert_string_equal(tjstr(r.json, "next"), cursor);
  if (epoch[0])
    assert_string_equal(tjstr(r.json, "epoch"), epoch);
  tresp_release(&r);
  char *s = survey_change(5, tuid(4), OFFICE_A, T0 + 300, 4);
  push1(t, &r, t->dev_a, s, "applied");
  free(s);
  s = survey_change(3, tuid(12), OFFICE_B, T0 + 300, 4); /* B's: not for A */
  push1(t, &r, t->dev_b, s, "applied");
  free(s);
  snprintf(q, sizeof q, "since=%s", cursor);
  tcall(t, &r, "GET", "/v1/pull", q, t->dev_a, NULL);
  const cJSON *ch = cJSON_GetObjectItem(r.json, "changes");
  assert_int_equal(cJSON_GetArraySize(ch), 1);
  assert_string_equal(tjstr(cJSON_GetArrayItem(ch, 0), "id"), tuid(4));
  assert_true(atoll(tjstr(r.json, "next")) > atoll(cursor));
  tresp_release(&r);
  /* recompute --verify on the new store through the real program */
  assert_int_equal(kjd(t, &out, "recompute --verify"), 0);
  assert_non_null(strstr(out, "aggregates match"));
  free(out);
  /* migrating again: the store is PostgreSQL already */
  assert_int_equal(kjd(t, &out, "migrate-store --to '%s'", url), 1);
  assert_non_null(strstr(out, "the store is PostgreSQL already"));
  free(out);

  /* another SQLite server into the database that now holds data: refused */
  tapp *t2 = tapp_new();
  write_conf(t2);
  kjs_store_close(t2->store);
  t2->store = NULL;
  char *conf2 = slurp(t2->cfg.conf_file);
  assert_int_equal(kjd(t2, &out, "migrate-store --to '%s'", url), 1);
  assert_non_null(strstr(out, "already holds kinerjad data"));
  assert_non_null(strstr(out, "dropdb"));
  free(out);
  conf_now = slurp(t2->cfg.conf_file);
  assert_string_equal(conf_now, conf2);
  free(conf_now);
  free(conf2);
  assert_int_equal(pg_count(db, "tokens"), 5);
  cleanup(t2);
  tapp_free(t2);

  (void)sqlite_file;
  free(replay_sqlite);
  free(replay_pg);
  free(replay);
  free(conf_before);
  snap_free(&a);
  snap_free(&b);
  cleanup(t);
  tapp_free(t);
}

/* --- broken copies: the test hook changes the target before the check --- */

typedef struct grab {
  char type[32], id[64], office[64], origin[128];
  char *state;
  int64_t seq;
} grab;

static kj_code grab_first(void *ctx, const kjs_db_rec *r) {
  grab *g = ctx;
  if (g->state)
    return KJ_OK;
  snprintf(g->type, sizeof g->type, "%s", r->type);
  snprintf(g->id, sizeof g->id, "%s", r->id);
  snprintf(g->office, sizeof g->office, "%s", r->office ? r->office : "");
  snprintf(g->origin, sizeof g->origin, "%s", r->origin ? r->origin : "");
  g->state = strndup(r->state, r->state_len);
  g->seq = r->seq;
  return KJ_OK;
}

/* a copied survey's u1 changed (its scores row left as is) */
static kj_code tamper_record(void *ctx, const kjs_db_ops *ops, kjs_dbc *c, kj_err *err) {
  (void)ctx;
  grab g;
  memset(&g, 0, sizeof g);
  kj_code rc = ops->records_scan(c, "survey", NULL, 1, 1, grab_first, &g, err);
  assert_int_equal(rc, KJ_OK);
  assert_non_null(g.state);
  char *u1 = strstr(g.state, "\"u1\":\"");
  assert_non_null(u1);
  u1[6] = u1[6] == '1' ? '2' : '1';
  kjs_db_rec r = {.type = g.type,
                  .id = g.id,
                  .office = g.office,
                  .state = g.state,
                  .state_len = strlen(g.state),
                  .seq = g.seq,
                  .origin = g.origin[0] ? g.origin : NULL};
  rc = ops->rec_put(c, &r, err);
  free(g.state);
  return rc;
}

/* a copied conflict row lost */
static kj_code drop_conflicts(void *ctx, const kjs_db_ops *ops, kjs_dbc *c, kj_err *err) {
  (void)ctx;
  int dropped = 0;
  kj_code rc = ops->conflict_trim(c, "survey", tuid(1), 0, &dropped, err);
  assert_int_equal(dropped >= 1, 1);
  return rc;
}

static void broken(kjs_migrate_hook hook, const char *want) {
  kjt_pg_url();
  unsetenv("KJ_TEST_STORE");
  tapp *t = tapp_new();
  write_conf(t);
  char *replay;
  seed(t, &replay);
  free(replay);
  kjs_store_close(t->store);
  t->store = NULL;
  char db[64], url[1200];
  PQfinish(kjt_pg_fresh_db("kjt_migr_bad", db, sizeof db));
  url_of(db, url, sizeof url);
  snprintf(t->pg_db, sizeof t->pg_db, "%s", db);
  char *conf_before = slurp(t->cfg.conf_file);
  kj_err e;
  kj_err_clear(&e);
  kjs_config cfg;
  assert_int_equal(kjs_config_init(&cfg, t->dir, &e), KJ_OK);
  assert_int_equal(kjs_config_load(&cfg, &e), KJ_OK);
  kjs_migrate_opts o = {.to = url, .before_check = hook};
  kjs_migrate_result r;
  kjs_migrate_result_init(&r);
  assert_int_equal(kjs_migrate_store(&cfg, &o, &r, &e), KJ_OK);
  assert_false(r.passed);
  assert_false(r.switched);
  if (!strstr(kj_buf_str(&r.diffs), want))
    fprintf(stderr, "diffs: %s\n", kj_buf_str(&r.diffs));
  assert_non_null(strstr(kj_buf_str(&r.diffs), want));
  kjs_migrate_result_release(&r);
  /* nothing switched, nothing left in the target */
  char *conf_now = slurp(t->cfg.conf_file);
  assert_string_equal(conf_now, conf_before);
  free(conf_now);
  free(conf_before);
  assert_int_equal(pg_count(db, "records"), 0);
  assert_int_equal(pg_count(db, "tokens"), 0);
  /* without the hook the same copy passes */
  o.before_check = NULL;
  kjs_migrate_result_init(&r);
  assert_int_equal(kjs_migrate_store(&cfg, &o, &r, &e), KJ_OK);
  assert_true(r.passed);
  assert_true(r.switched);
  assert_int_equal(r.ndiff_counts + r.ndiff_scores, 0);
  kjs_migrate_result_release(&r);
  assert_int_equal(pg_count(db, "tokens"), 5);
  kjs_config_release(&cfg);
  cleanup(t);
  tapp_free(t);
}

static void test_broken_record(void **state) {
  (void)state;
  broken(tamper_record, "sc_survey: ");
}

static void test_broken_count(void **state) {
  (void)state;
  broken(drop_conflicts, "conflicts: ");
}

/* a column this kinerjad does not know (a newer kinerjad's store, or a
 * table changed by hand): refused before anything is copied */
static void test_unknown_column(void **state) {
  (void)state;
  kjt_pg_url();
  tapp *t = tapp_new();
  write_conf(t);
  kjs_store_close(t->store);
  t->store = NULL;
  sqlite3 *q;
  assert_int_equal(sqlite3_open(t->cfg.db_file, &q), SQLITE_OK);
  assert_int_equal(sqlite3_exec(q, "ALTER TABLE tokens ADD COLUMN colour TEXT", NULL, NULL, NULL),
                   SQLITE_OK);
  sqlite3_close(q);
  char db[64], url[1200];
  PQfinish(kjt_pg_fresh_db("kjt_migr_col", db, sizeof db));
  url_of(db, url, sizeof url);
  snprintf(t->pg_db, sizeof t->pg_db, "%s", db);
  char *out;
  assert_int_equal(kjd(t, &out, "migrate-store --to '%s'", url), 1);
  assert_non_null(strstr(out, "the SQLite store has tokens.colour, which this kinerjad's "
                              "migrate-store does not copy"));
  free(out);
  assert_int_equal(pg_count(db, "tokens"), 0);
  cleanup(t);
  tapp_free(t);
}

int main(void) {
  unsetenv("KJ_TEST_STORE"); /* the source is SQLite */
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_migrate),
      cmocka_unit_test(test_broken_record),
      cmocka_unit_test(test_broken_count),
      cmocka_unit_test(test_unknown_column),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
