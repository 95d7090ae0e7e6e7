/* test_app_cli.c - the kinerjad command line (everything but init and
 * serve, which need the network layer: see test_e2e.c). */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>
#include <sqlite3.h>
#include <cmocka.h>

#include "config.h"
#include "store.h"

#ifndef KINERJAD_BIN
#error "KINERJAD_BIN must name the kinerjad binary"
#endif

typedef struct cenv {
  char dir[256];
  char out[65536], err[65536];
} cenv;

static const char *data_dir(void) {
  const char *d = getenv("KJ_TEST_DATA");
  return d ? d : KJ_TEST_DATA_DIR;
}

static void slurp(int fd, char *buf, size_t size) {
  size_t len = 0;
  ssize_t r;
  while ((r = read(fd, buf + len, size - 1 - len)) > 0)
    len += (size_t)r;
  buf[len] = 0;
}

/* When set, kinerjad runs with its wall clock at this instant (ms since
 * the epoch; tests/tools/skewclock.c, skewed from the real clock just
 * before the run) and TZ=UTC: a server in UTC, whatever this machine's
 * zone. */
static int64_t g_clock_ms;

/* Run kinerjad --data DIR args...; stdout/stderr in e->out/e->err. */
static int run(cenv *e, const char *const *args) {
  char of[300], ef[300];
  snprintf(of, sizeof of, "%s/out.txt", e->dir);
  snprintf(ef, sizeof ef, "%s/err.txt", e->dir);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    int o = open(of, O_WRONLY | O_CREAT | O_TRUNC, 0600),
        x = open(ef, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(o, 1);
    dup2(x, 2);
    if (g_clock_ms) {
      struct timespec now;
      clock_gettime(CLOCK_REALTIME, &now);
      char skew[32];
      snprintf(skew, sizeof skew, "%lld",
               (long long)(g_clock_ms - ((int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000)));
      setenv("KJ_TEST_CLOCK_SKEW_MS", skew, 1);
      setenv("LD_PRELOAD", SKEWCLOCK_LIB, 1);
      setenv("TZ", "UTC", 1);
    }
    const char *argv[32];
    int n = 0;
    argv[n++] = KINERJAD_BIN;
    argv[n++] = "--data";
    argv[n++] = e->dir;
    for (int i = 0; args[i] && n < 31; i++)
      argv[n++] = args[i];
    argv[n] = NULL;
    execv(KINERJAD_BIN, (char *const *)argv);
    _exit(127);
  }
  int st;
  waitpid(pid, &st, 0);
  int fd = open(of, O_RDONLY);
  slurp(fd, e->out, sizeof e->out);
  close(fd);
  fd = open(ef, O_RDONLY);
  slurp(fd, e->err, sizeof e->err);
  close(fd);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static void digest(cenv *e, char out[65], long long *n) {
  kjs_config c;
  kj_err er;
  kj_err_clear(&er);
  assert_int_equal(kjs_config_init(&c, e->dir, &er), KJ_OK);
  kjs_store *s;
  assert_int_equal(kjs_store_open(&s, c.db_file, NULL, 0, &er), KJ_OK);
  assert_int_equal(kjs_store_records_digest(s, out, n, &er), KJ_OK);
  kjs_store_close(s);
  kjs_config_release(&c);
}

static int setup(void **state) {
  cenv *e = calloc(1, sizeof *e);
  snprintf(e->dir, sizeof e->dir, "/tmp/kjs-cli-XXXXXX");
  assert_non_null(mkdtemp(e->dir));
  /* what init makes, minus the certificate */
  kjs_config c;
  kj_err er;
  kj_err_clear(&er);
  assert_int_equal(kjs_config_init(&c, e->dir, &er), KJ_OK);
  FILE *f = fopen(c.conf_file, "w");
  assert_non_null(f);
  fputs(kjs_config_default_text(), f);
  fclose(f);
  kjs_store *s;
  assert_int_equal(kjs_store_open(&s, c.db_file, &c, 1, &er), KJ_OK);
  kjs_store_close(s);
  kjs_config_release(&c);
  *state = e;
  return 0;
}

static int teardown(void **state) {
  cenv *e = *state;
  char cmd[400];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", e->dir);
  if (system(cmd) != 0)
    fprintf(stderr, "cannot remove %s\n", e->dir);
  free(e);
  return 0;
}

static void test_import(void **state) {
  cenv *e = *state;
  char f[512];
  snprintf(f, sizeof f, "%s/server/offices.csv", data_dir());
  const char *imp[] = {"import", "office", f, NULL};
  assert_int_equal(run(e, imp), 0);
  /* the summary of kinerja's import, in its words (docs/operations.md) */
  char sum[800];
  snprintf(sum, sizeof sum, "imported 3 rows from '%s': 3 new, 0 updated, 0 unchanged\n", f);
  assert_string_equal(e->out, sum);
  char d1[65], d2[65];
  long long n;
  digest(e, d1, &n);
  assert_int_equal(n, 3);
  /* again (--again: the same rows were imported before): nothing changes,
   * not even a stamp */
  const char *imp2[] = {"import", "office", f, "--again", NULL};
  assert_int_equal(run(e, imp2), 0);
  snprintf(sum, sizeof sum, "imported 3 rows from '%s': 0 new, 0 updated, 3 unchanged\n", f);
  assert_string_equal(e->out, sum);
  digest(e, d2, &n);
  assert_string_equal(d1, d2);
  snprintf(f, sizeof f, "%s/server/employees.csv", data_dir());
  const char *emp[] = {"import", "employees", f, NULL};
  assert_int_equal(run(e, emp), 0);
  /* bad rows: one line per problem, exit 1, good rows kept */
  char bad[300];
  snprintf(bad, sizeof bad, "%s/bad.csv", e->dir);
  FILE *b = fopen(bad, "w");
  fputs("id,office,date,service,u1,u2,u3,u4,u5,u6,u7,u8,u9,age,sex,education,occupation,comment\n"
        ",36.73.01,2026-02-01,KTP-el,4,3,3,3,3,3,3,3,3,,,,,\n"
        ",36.73.01,2026-02-01,KTP-el,9,3,3,3,3,3,3,3,3,,,,,\n"
        ",36.73.01,2026-02-30,KTP-el,1,3,3,3,3,3,3,3,3,,X,,,\n",
        b);
  fclose(b);
  digest(e, d1, &n);
  const char *strict[] = {"import", "survey", bad, "--strict", NULL};
  assert_int_equal(run(e, strict), 1);
  char expect[400];
  snprintf(expect, sizeof expect, "%s:3: field 'u1': must be an integer from 1 to 4", bad);
  assert_non_null(strstr(e->err, expect));
  snprintf(expect, sizeof expect, "%s:4: field 'date'", bad);
  assert_non_null(strstr(e->err, expect));
  snprintf(expect, sizeof expect, "%s:4: field 'sex'", bad);
  assert_non_null(strstr(e->err, expect));
  assert_non_null(strstr(e->err, "kinerjad: 2 bad rows"));
  digest(e, d2, &n);
  assert_string_equal(d1, d2); /* --strict: nothing stored */
  const char *loose[] = {"import", "survey", bad, NULL};
  assert_int_equal(run(e, loose), 1);
  snprintf(sum, sizeof sum,
           "imported 1 row from '%s': 1 new, 0 updated, 0 unchanged, 2 bad (not imported)\n", bad);
  assert_string_equal(e->out, sum);
  snprintf(sum, sizeof sum,
           "kinerjad: warning: fix the 2 bad rows and import only them, in a file of their own: "
           "importing all of '%s' again would store its 1 new row a second time\n",
           bad);
  assert_non_null(strstr(e->err, sum));
  digest(e, d2, &n);
  assert_string_not_equal(d1, d2);
  /* an existing id updates the record */
  snprintf(bad, sizeof bad, "%s/upd.csv", e->dir);
  b = fopen(bad, "w");
  fputs("code,name,region,population\n36.73.01,Kecamatan Baru,Kota Serang,500\n", b);
  fclose(b);
  const char *upd[] = {"import", "office", bad, NULL};
  assert_int_equal(run(e, upd), 0);
  snprintf(sum, sizeof sum, "imported 1 row from '%s': 0 new, 1 updated, 0 unchanged\n", bad);
  assert_string_equal(e->out, sum);
  kjs_config c;
  kj_err er;
  kjs_config_init(&c, e->dir, &er);
  kjs_store *s;
  assert_int_equal(kjs_store_open(&s, c.db_file, NULL, 0, &er), KJ_OK);
  char *js;
  assert_int_equal(kjs_store_get_state(s, KJ_T_OFFICE, "36.73.01", &js, &er), KJ_OK);
  assert_non_null(strstr(js, "Kecamatan Baru"));
  assert_non_null(strstr(js, "/server")); /* stamped by device "server" */
  free(js);
  kjs_store_close(s);
  kjs_config_release(&c);
  /* usage errors */
  const char *nt[] = {"import", "nosuch", bad, NULL};
  assert_int_equal(run(e, nt), 1);
  assert_non_null(strstr(e->err, "kinerjad: unknown record type 'nosuch'"));
  const char *nf[] = {"import", "office", "/nonexistent.csv", NULL};
  assert_int_equal(run(e, nf), 1);
  assert_non_null(strstr(e->err, "kinerjad: cannot open '/nonexistent.csv'"));
}

static void write_file(const char *path, const char *text) {
  FILE *b = fopen(path, "w");
  assert_non_null(b);
  fputs(text, b);
  fclose(b);
}

static long long count_records(cenv *e) {
  char d[65];
  long long n;
  digest(e, d, &n);
  return n;
}

/* domain.md "CSV files": spreadsheet variants, re-import, --again. */
static void test_import_variants(void **state) {
  cenv *e = *state;
  char f[512], csv[300], expect[1400];
  snprintf(f, sizeof f, "%s/server/offices.csv", data_dir());
  const char *off[] = {"import", "office", f, NULL};
  assert_int_equal(run(e, off), 0);
  /* employees as a spreadsheet set to Indonesian saves them */
  snprintf(csv, sizeof csv, "%s/pegawai.csv", e->dir);
  write_file(csv, "\xEF\xBB\xBFNIP;Nama;Office;Position;Supervisor\r\n"
                  "198503012020112001;Nur Dewi;36.73.01;Analis;\r\n"
                  "196604102014071002;Maya Wulan;36.73.01;Kasi;198503012020112001\r\n"
                  "1,98E+17;Budi;36.73.01;Staf;\r\n");
  const char *emp[] = {"import", "employee", csv, NULL};
  assert_int_equal(run(e, emp), 1);
  /* the header names the columns: 'nama' is not one, and the columns are listed */
  snprintf(expect, sizeof expect,
           "kinerjad: %s:1: unknown column 'nama' (did you mean 'name'?); the columns of "
           "employees.csv are nip,name,office,position,supervisor\n",
           csv);
  assert_string_equal(e->err, expect);
  assert_int_equal(count_records(e), 3);
  write_file(csv, "\xEF\xBB\xBFNIP;Name;Office;Position;Supervisor\r\n"
                  "198503012020112001;Nur Dewi;36.73.01;Analis;\r\n"
                  "196604102014071002;Maya Wulan;36.73.01;Kasi;198503012020112001\r\n"
                  "1,98E+17;Budi;36.73.01;Staf;\r\n");
  assert_int_equal(run(e, emp), 1);
  snprintf(expect, sizeof expect, "%s: read as ';'-separated, column names in any letter case\n",
           csv);
  assert_non_null(strstr(e->out, expect));
  assert_non_null(strstr(e->out, "imported 2 rows from"));
  assert_non_null(strstr(e->out, "': 2 new, 0 updated, 0 unchanged, 1 bad (not imported)\n"));
  snprintf(expect, sizeof expect,
           "%s:4: field 'nip': 1,98E+17 is not a NIP: the spreadsheet turned the NIP into a "
           "number and lost its last digits; format the column as text and type the NIPs "
           "again\n"
           "kinerjad: warning: fix the 1 bad row and import only them, in a file of their own: "
           "importing all of '%s' again would store its 2 new rows a second time\n",
           csv, csv);
  assert_string_equal(e->err, expect);
  assert_int_equal(count_records(e), 5);

  /* activities with DD/MM/YYYY and decimal commas */
  snprintf(csv, sizeof csv, "%s/kegiatan.csv", e->dir);
  write_file(csv, "id;office;nip;date;indicator;quantity\n"
                  ";36.73.01;198503012020112001;05/01/2026;DOC;2,5\n"
                  ";36.73.01;196604102014071002;6/1/2026;DOC;0,25\n");
  const char *act[] = {"import", "activity", csv, NULL};
  assert_int_equal(run(e, act), 0);
  snprintf(expect, sizeof expect, "%s: read as ';'-separated, dates DD/MM/YYYY, decimal commas\n",
           csv);
  assert_non_null(strstr(e->out, expect));
  assert_non_null(strstr(e->out, "imported 2 rows from"));
  assert_non_null(strstr(e->out, "': 2 new, 0 updated, 0 unchanged\n"));
  assert_int_equal(count_records(e), 7);
  /* stored canonical */
  kjs_config c;
  kj_err er;
  kj_err_clear(&er);
  kjs_config_init(&c, e->dir, &er);
  sqlite3 *db;
  assert_int_equal(sqlite3_open(c.db_file, &db), SQLITE_OK);
  sqlite3_stmt *q;
  assert_int_equal(sqlite3_prepare_v2(db,
                                      "SELECT count(*) FROM records WHERE type = 'activity' AND "
                                      "state LIKE '%\"2026-01-05\"%' AND state LIKE '%\"2.5\"%'",
                                      -1, &q, NULL),
                   SQLITE_OK);
  assert_int_equal(sqlite3_step(q), SQLITE_ROW);
  assert_int_equal(sqlite3_column_int(q, 0), 1);
  sqlite3_finalize(q);
  sqlite3_close(db);
  kjs_config_release(&c);

  /* the same file again: nothing added, says when (local time) */
  char d1[65], d2[65];
  long long n;
  digest(e, d1, &n);
  setenv("TZ", "Asia/Makassar", 1);
  assert_int_equal(run(e, act), 0);
  unsetenv("TZ");
  snprintf(expect, sizeof expect, "kinerjad: warning: the rows of '%s' were imported before, on ",
           csv);
  assert_non_null(strstr(e->err, expect));
  snprintf(expect, sizeof expect, " WITA from '%s': nothing added (--again imports them again)\n",
           csv);
  assert_non_null(strstr(e->err, expect));
  assert_non_null(strstr(e->out, "read as")); /* still says what it saw */
  assert_null(strstr(e->out, "imported 2"));
  digest(e, d2, &n);
  assert_string_equal(d1, d2);
  /* the same rows in the canonical form are the same rows */
  char csv2[300];
  snprintf(csv2, sizeof csv2, "%s/kegiatan2.csv", e->dir);
  write_file(csv2, "office,nip,date,indicator,quantity,id\n"
                   "36.73.01,198503012020112001,2026-01-05,DOC,2.5,\n"
                   "36.73.01,196604102014071002,2026-01-06,DOC,0.25,\n");
  const char *act2[] = {"import", "activity", csv2, NULL};
  assert_int_equal(run(e, act2), 0);
  assert_non_null(strstr(e->err, "were imported before"));
  assert_int_equal(count_records(e), 7);
  /* --again: imported again (no ids: two more activities) */
  const char *again[] = {"import", "activity", csv2, "--again", NULL};
  assert_int_equal(run(e, again), 0);
  assert_non_null(strstr(e->out, "imported 2 rows from"));
  assert_string_equal(e->err, "");
  assert_int_equal(count_records(e), 9);
  assert_int_equal(run(e, act2), 0);
  assert_non_null(strstr(e->err, "were imported before"));
  assert_int_equal(count_records(e), 9);
}

/* Issue 16: a survey's service as the office lists it; an unknown one is
 * kept with a warning naming the closest when it is near
 * (kj_suggest_near), else the office's services. */
static void test_import_services(void **state) {
  cenv *e = *state;
  char f[512], csv[300], expect[800];
  snprintf(f, sizeof f, "%s/server/offices.csv", data_dir());
  const char *off[] = {"import", "office", f, NULL};
  assert_int_equal(run(e, off), 0);
  snprintf(csv, sizeof csv, "%s/services.csv", e->dir);
  write_file(csv, "office,name\n36.73.01,KTP-el\n36.73.01,Akta Kelahiran\n36.73.02,Surat Pindah\n");
  const char *svc[] = {"import", "service", csv, NULL};
  assert_int_equal(run(e, svc), 0);
  snprintf(csv, sizeof csv, "%s/surveys.csv", e->dir);
  write_file(csv, "id,office,date,service,u1,u2,u3,u4,u5,u6,u7,u8,u9\n"
                  "01900000-0000-7000-8000-000000005001,36.73.01,2026-02-01, ktp  EL.,4,3,3,3,3,3,"
                  "3,3,3\n"
                  "01900000-0000-7000-8000-000000005002,36.73.01,2026-02-01,Akta Kelahran,4,3,3,3,"
                  "3,3,3,3,3\n"
                  "01900000-0000-7000-8000-000000005003,36.73.01,2026-02-01,Paspor,4,3,3,3,"
                  "3,3,3,3,3\n");
  const char *sv[] = {"import", "survey", csv, NULL};
  assert_int_equal(run(e, sv), 0);
  snprintf(expect, sizeof expect,
           "%s:3: warning: field 'service': 'Akta Kelahran' is not a service of office "
           "'36.73.01' (closest: 'Akta Kelahiran'); stored as typed\n",
           csv);
  assert_non_null(strstr(e->err, expect));
  assert_null(strstr(e->err, ":2: warning"));
  /* far from every listed name: the office's services by name (as
   * kinerja lists them), not "KTP-el" */
  snprintf(expect, sizeof expect,
           "%s:4: warning: field 'service': 'Paspor' is not a service of office '36.73.01' (its "
           "services: 'Akta Kelahiran', 'KTP-el'); stored as typed\n",
           csv);
  if (!strstr(e->err, expect))
    fail_msg("'%s' not in '%s'", expect, e->err);
  kjs_config c;
  kj_err er;
  kj_err_clear(&er);
  assert_int_equal(kjs_config_init(&c, e->dir, &er), KJ_OK);
  sqlite3 *db;
  assert_int_equal(sqlite3_open(c.db_file, &db), SQLITE_OK);
  sqlite3_stmt *q;
  assert_int_equal(sqlite3_prepare_v2(db,
                                      "SELECT json_extract(state, '$.f.service') FROM records "
                                      "WHERE type = 'survey' ORDER BY id",
                                      -1, &q, NULL),
                   SQLITE_OK);
  assert_int_equal(sqlite3_step(q), SQLITE_ROW);
  assert_string_equal((const char *)sqlite3_column_text(q, 0), "KTP-el");
  assert_int_equal(sqlite3_step(q), SQLITE_ROW);
  assert_string_equal((const char *)sqlite3_column_text(q, 0), "Akta Kelahran");
  sqlite3_finalize(q);
  sqlite3_close(db);
  kjs_config_release(&c);
}

/* The default "as of" day of 'report offices' is the offices' day, not
 * the server's (a trial found 'as of 2026-11-30' at 03:12 WIB on 1
 * December, the server's UTC day, where the office's report said
 * 2026-12-01): the clock is fixed at 16:30 UTC on 30 November, 23:30 WIB
 * and 00:30 WITA on 1 December.  Offices all in WITA: their day; offices
 * in WIB and WITA: the westernmost's (WIB's) day, named in the header. */
static void test_report_day(void **state) {
  cenv *e = *state;
  char csv[300];
  snprintf(csv, sizeof csv, "%s/offices-wita.csv", e->dir);
  write_file(csv, "code,name,region,population,timezone\n"
                  "73.71.01,Kecamatan Mariso,Kota Makassar,,Asia/Makassar\n"
                  "73.71.02,Kecamatan Mamajang,Kota Makassar,,Asia/Makassar\n");
  const char *imp[] = {"import", "office", csv, NULL};
  assert_int_equal(run(e, imp), 0);
  g_clock_ms = (int64_t)1796056200 * 1000; /* 2026-11-30T16:30:00Z */
  const char *rep[] = {"report", "offices", "--period", "2026-11", NULL};
  assert_int_equal(run(e, rep), 0);
  if (!strstr(e->out, "Offices, period 2026-11, as of 2026-12-01\n"))
    fail_msg("not the WITA day: %s", e->out);
  const char *js[] = {"report", "offices", "--period", "2026-12", "--json", NULL};
  assert_int_equal(run(e, js), 0);
  assert_non_null(strstr(e->out, "\"as_of\":\"2026-12-01\""));
  /* --as-of still rules */
  const char *asof[] = {"report", "offices", "--period", "2026-11", "--as-of", "2026-11-15", NULL};
  assert_int_equal(run(e, asof), 0);
  assert_non_null(strstr(e->out, "as of 2026-11-15\n"));
  /* a WIB office too: WIB's day (still 30 November there), said so */
  snprintf(csv, sizeof csv, "%s/offices-wib.csv", e->dir);
  write_file(csv, "code,name,region,population,timezone\n"
                  "36.73.01,Kecamatan Kasemen,Kota Serang,,Asia/Jakarta\n");
  const char *imp2[] = {"import", "office", csv, NULL};
  assert_int_equal(run(e, imp2), 0);
  assert_int_equal(run(e, rep), 0);
  if (!strstr(e->out, "Offices, period 2026-11, as of 2026-11-30 WIB\n"))
    fail_msg("not WIB's day named: %s", e->out);
  g_clock_ms = 0;
}

static void test_devices(void **state) {
  cenv *e = *state;
  const char *add[] = {"device", "add", "--office", "36.73.01", "--name", "PC 1", NULL};
  assert_int_equal(run(e, add), 0);
  char id[64];
  const char *p = strstr(e->out, "device id: ");
  assert_non_null(p);
  sscanf(p + 11, "%63s", id);
  const char *t = strstr(e->out, "device token: ");
  assert_non_null(t);
  assert_int_equal(strcspn(t + 14, "\n"), 64);
  const char *bad[] = {"device", "add", "--office", "no spaces allowed", NULL};
  assert_int_equal(run(e, bad), 1);
  assert_non_null(strstr(e->err, "kinerjad: bad office code"));
  const char *noof[] = {"device", "add", NULL};
  assert_int_equal(run(e, noof), 1);
  const char *ls[] = {"device", "list", "--json", NULL};
  assert_int_equal(run(e, ls), 0);
  cJSON *arr = cJSON_Parse(e->out);
  assert_int_equal(cJSON_GetArraySize(arr), 1);
  assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(arr, 0), "id")->valuestring, id);
  assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(arr, 0), "office")->valuestring,
                      "36.73.01");
  assert_true(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetArrayItem(arr, 0), "revoked")));
  cJSON_Delete(arr);
  /* the token is not in the database in clear */
  const char *rv[] = {"device", "revoke", id, NULL};
  assert_int_equal(run(e, rv), 0);
  assert_int_equal(run(e, rv), 1);
  assert_non_null(strstr(e->err, "already revoked"));
  const char *rvx[] = {"device", "revoke", "dev-none", NULL};
  assert_int_equal(run(e, rvx), 1);
  const char *lst[] = {"device", "list", NULL};
  assert_int_equal(run(e, lst), 0);
  assert_non_null(strstr(e->out, "revoked"));
  const char *tok[] = {"token", "add", "--role", "viewer", NULL};
  assert_int_equal(run(e, tok), 0);
  assert_non_null(strstr(e->out, "token: "));
  const char *tokd[] = {"token", "add", "--role", "device", NULL};
  assert_int_equal(run(e, tokd), 1);
  /* a label is text like any field: no control characters reach a terminal */
  const char *esc[] = {"device", "add", "--office", "36.73.01", "--name", "PC\x1b[2J", NULL};
  assert_int_equal(run(e, esc), 1);
  assert_non_null(strstr(e->err, "device add: --name: must not contain control characters"));
  const char *tesc[] = {"token",
                        "add",
                        "--role",
                        "viewer",
                        "--name",
                        "a\x07" // NOLINT(bugprone-suspicious-missing-comma)
                        "b",
                        NULL};
  assert_int_equal(run(e, tesc), 1);
  assert_non_null(strstr(e->err, "token add: --name: must not contain control characters"));
  /* one stored before labels were checked is printed escaped */
  kjs_config c;
  kj_err er;
  assert_int_equal(kjs_config_init(&c, e->dir, &er), KJ_OK);
  sqlite3 *db;
  assert_int_equal(sqlite3_open(c.db_file, &db), SQLITE_OK);
  kjs_config_release(&c);
  assert_int_equal(sqlite3_exec(db,
                                "UPDATE tokens SET name = 'old\x1b]0;x\x07' WHERE role = 'device'",
                                NULL, NULL, NULL),
                   SQLITE_OK);
  sqlite3_close(db);
  assert_int_equal(run(e, lst), 0);
  assert_null(strchr(e->out, 0x1b));
  assert_non_null(strstr(e->out, "old\\e]0;x\\x07"));
}

static void test_help_and_errors(void **state) {
  cenv *e = *state;
  /* what a message quotes (a CSV header, an argument) never reaches the
   * terminal raw */
  char csv[400];
  snprintf(csv, sizeof csv, "%s/esc.csv", e->dir);
  FILE *fh = fopen(csv, "w");
  assert_non_null(fh);
  fputs("id,name,unit,x\x1b[2J\n", fh);
  fclose(fh);
  const char *imp[] = {"import", "indicator", csv, NULL};
  assert_int_equal(run(e, imp), 1);
  assert_null(strchr(e->err, 0x1b));
  assert_non_null(strstr(e->err, "unknown column 'x\\e[2j'"));
  const char *rv[] = {"device", "revoke", "dev-\x1b]0;x\x07", NULL};
  assert_int_equal(run(e, rv), 1);
  assert_null(strchr(e->err, 0x1b));
  const char *cmds[] = {"init",      "serve",  "device",    "token", "import",
                        "conflicts", "report", "recompute", "backup"};
  for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
    const char *a[] = {cmds[i], "--help", NULL};
    assert_int_equal(run(e, a), 0);
    if (!strstr(e->out, "usage: kinerjad") || !strstr(e->out, "example: kinerjad") ||
        !strstr(e->out, "--data DIR"))
      fail_msg("help of '%s' lacks usage, flags or an example:\n%s", cmds[i], e->out);
  }
  /* a mistyped command, subcommand or option says what was meant */
  static const struct {
    const char *a[7], *want;
  } typos[] = {
      {{"devcie", "list", NULL}, "unknown command 'devcie' (did you mean 'device'?)"},
      {{"device", "ad", NULL}, "unknown device command 'ad' (did you mean 'add'?)"},
      {{"report", "ofices", "--period", "2026"},
       "unknown report 'ofices' (did you mean 'offices'?)"},
      {{"recompute", "--verfy", NULL},
       "recompute: unknown option '--verfy' (did you mean '--verify'?)"},
      {{"serve", "--listn", "x", NULL},
       "serve: unknown option '--listn' (did you mean '--listen'?)"},
      {{"serve", "--listen", NULL}, "serve: option '--listen' needs a value"},
      {{"conflicts", "--bogus", NULL}, "conflicts: unknown option '--bogus' (see"},
      /* what is missing, in English that agrees */
      {{"report", "employees", "--period", "2026"},
       "kinerjad: report employees: --period and --office are required\n"},
      {{"report", "offices", NULL}, "kinerjad: report offices: --period is required\n"},
      /* a mistyped office: said, not an empty table */
      {{"report", "employees", "--period", "2026", "--office", "99.99.99", NULL},
       "kinerjad: report employees: no office '99.99.99' (a typo?"},
  };
  for (size_t i = 0; i < sizeof typos / sizeof typos[0]; i++) {
    assert_int_equal(run(e, typos[i].a), 1);
    if (!strstr(e->err, typos[i].want))
      fail_msg("'%s %s': want '%s', got '%s'", typos[i].a[0], typos[i].a[1], typos[i].want, e->err);
  }
  const char *h[] = {"--help", NULL};
  assert_int_equal(run(e, h), 0);
  const char *u[] = {"frobnicate", NULL};
  assert_int_equal(run(e, u), 1);
  assert_non_null(strstr(e->err, "kinerjad: unknown command 'frobnicate'"));
  const char *cf[] = {"conflicts", NULL};
  assert_int_equal(run(e, cf), 0);
  assert_non_null(strstr(e->out, "no conflicts"));
  const char *cfj[] = {"conflicts", "--json", NULL};
  assert_int_equal(run(e, cfj), 0);
  cJSON *arr = cJSON_Parse(e->out);
  assert_true(cJSON_IsArray(arr));
  cJSON_Delete(arr);
  /* init refuses an existing data directory */
  const char *in[] = {"init", NULL};
  assert_int_equal(run(e, in), 1);
  assert_non_null(strstr(e->err, "refusing to overwrite"));
  /* a bad config line is named */
  char conf[300];
  snprintf(conf, sizeof conf, "%s/kinerjad.conf", e->dir);
  FILE *f = fopen(conf, "a");
  fputs("lisen = 1.2.3.4:5\n", f);
  fclose(f);
  assert_int_equal(run(e, cf), 1);
  assert_non_null(strstr(e->err, "unknown key 'lisen'"));
}

/* Issue 15 point 4: rows of the conflict log written before it validated
 * values (an ESC sequence, a C1 CSI, invalid UTF-8, a huge value) print
 * escaped in the table and as valid JSON. */
static void test_conflicts_escaped(void **state) {
  cenv *e = *state;
  kjs_config c;
  kj_err er;
  kj_err_clear(&er);
  assert_int_equal(kjs_config_init(&c, e->dir, &er), KJ_OK);
  sqlite3 *db;
  assert_int_equal(sqlite3_open(c.db_file, &db), SQLITE_OK);
  kjs_config_release(&c);
  sqlite3_stmt *st;
  assert_int_equal(
      sqlite3_prepare_v2(db,
                         "INSERT INTO conflicts(type, id, field, loser, loser_stamp, "
                         "winner, winner_stamp, at) VALUES('survey', ?1, ?2, ?3, ?4, ?5, "
                         "'1767225600000.0@dev-a2', 1767225600000)",
                         -1, &st, NULL),
      SQLITE_OK);
  char *huge = malloc(300001);
  assert_non_null(huge);
  memset(huge, 'A', 300000);
  huge[0] = 0x1b;
  huge[300000] = '\0';
  const char *rows[][5] = {
      {"0190a0b0-1c2d-7e3f-8a4b-5c6d7e8f9a01", "occupation", "\x1b]0;owned\x07\x1b[2J", "1@x",
       "guru"},
      {"0190a0b0-1c2d-7e3f-8a4b-5c6d7e8f9a01\x1b[31m", "comment", "csi \xc2\x9b\x33\x31m", "2@x",
       "bad \xff\xfe utf8"},
      {"0190a0b0-1c2d-7e3f-8a4b-5c6d7e8f9a02",
       "no\x1b" // NOLINT(bugprone-suspicious-missing-comma)
       "field",
       huge, "3@\x1b[1m", NULL},
  };
  for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
    for (int k = 0; k < 5; k++)
      sqlite3_bind_text(st, k + 1, rows[i][k], -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_reset(st);
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  free(huge);

  const char *cf[] = {"conflicts", NULL};
  assert_int_equal(run(e, cf), 0);
  for (const char *p = e->out; *p; p++)
    if ((unsigned char)*p < 0x20 && *p != '\n')
      fail_msg("control byte 0x%02x in the table:\n%s", (unsigned char)*p, e->out);
  assert_true(kj_utf8_len(e->out) >= 0);
  assert_null(strstr(e->out, "\xc2\x9b"));
  /* the ids and stamps are escaped, the values that break their field's rule
   * are not shown but say why */
  assert_non_null(strstr(e->out, "9a01\\e[31m field 'comment'"));
  assert_non_null(strstr(e->out, "(not kept: field 'occupation': must not contain control "
                                 "characters (14 bytes))"));
  assert_non_null(strstr(e->out, "(not kept: field 'comment': must be valid UTF-8 (11 bytes))"));
  assert_non_null(strstr(e->out, "field 'no\\efield'"));
  assert_non_null(strstr(e->out, "stamp 3@\\e[1m)"));
  assert_non_null(strstr(e->out, "kept 'guru'"));
  assert_non_null(strstr(e->out, "overwrote (not kept: unknown field (300000 bytes))"));
  assert_true(strlen(e->out) < 4096); /* the 300 KB value is not printed */

  const char *cfj[] = {"conflicts", "--json", NULL};
  assert_int_equal(run(e, cfj), 0);
  assert_true(kj_utf8_len(e->out) >= 0);
  assert_null(strchr(e->out, 0x1b));
  cJSON *arr = cJSON_Parse(e->out);
  assert_true(cJSON_IsArray(arr));
  assert_int_equal(cJSON_GetArraySize(arr), 3);
  const cJSON *o = cJSON_GetArrayItem(arr, 1);
  assert_string_equal(cJSON_GetObjectItem(o, "id")->valuestring,
                      "0190a0b0-1c2d-7e3f-8a4b-5c6d7e8f9a01\x1b[31m");
  assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "loser")));
  assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "winner")));
  assert_string_equal(cJSON_GetObjectItem(o, "winner_note")->valuestring,
                      "not kept: field 'comment': must be valid UTF-8 (11 bytes)");
  cJSON_Delete(arr);
}

/* kinerjad backup FILE: a consistent copy, also while another connection
 * holds a write transaction open (as serve does mid-push). */
static void test_backup(void **state) {
  cenv *e = *state;
  char f[512], copy[400], d1[65], d2[65];
  snprintf(f, sizeof f, "%s/server/offices.csv", data_dir());
  const char *imp[] = {"import", "office", f, NULL};
  assert_int_equal(run(e, imp), 0);
  kjs_config c;
  kj_err er;
  kj_err_clear(&er);
  assert_int_equal(kjs_config_init(&c, e->dir, &er), KJ_OK);
  kjs_store *w;
  assert_int_equal(kjs_store_open(&w, c.db_file, &c, 0, &er), KJ_OK);
  kjs_txn *t = NULL;
  assert_int_equal(kjs_txn_begin(w, &t, &er), KJ_OK); /* a writer mid-batch */
  snprintf(copy, sizeof copy, "%s/copy.db", e->dir);
  const char *bk[] = {"backup", copy, NULL};
  assert_int_equal(run(e, bk), 0);
  assert_non_null(strstr(e->out, "backed up "));
  assert_non_null(strstr(e->out, copy));
  kjs_txn_rollback(t);
  kjs_store_close(w);
  struct stat sb;
  assert_int_equal(stat(copy, &sb), 0);
  assert_int_equal(sb.st_mode & 0777, 0600);
  long long n1, n2;
  digest(e, d1, &n1);
  kjs_store *s;
  assert_int_equal(kjs_store_open(&s, copy, NULL, 0, &er), KJ_OK);
  assert_int_equal(kjs_store_records_digest(s, d2, &n2, &er), KJ_OK);
  kjs_store_close(s);
  assert_int_equal(n1, 3);
  assert_int_equal(n2, n1);
  assert_string_equal(d1, d2);
  /* never over an existing file */
  assert_int_equal(run(e, bk), 1);
  assert_non_null(strstr(e->err, "already exists"));
  const char *none[] = {"backup", NULL};
  assert_int_equal(run(e, none), 1);
  assert_non_null(strstr(e->err, "which file?"));
  kjs_config_release(&c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_import, setup, teardown),
      cmocka_unit_test_setup_teardown(test_import_variants, setup, teardown),
      cmocka_unit_test_setup_teardown(test_import_services, setup, teardown),
      cmocka_unit_test_setup_teardown(test_report_day, setup, teardown),
      cmocka_unit_test_setup_teardown(test_devices, setup, teardown),
      cmocka_unit_test_setup_teardown(test_help_and_errors, setup, teardown),
      cmocka_unit_test_setup_teardown(test_conflicts_escaped, setup, teardown),
      cmocka_unit_test_setup_teardown(test_backup, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
