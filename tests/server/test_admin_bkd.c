/* test_admin_bkd.c - the command line of issue 18 with the real kinerjad:
 * `user add|list|remove` (Argon2id, the password's sources and rules, the
 * store's sign-in check), `token list|revoke` (every token, last seen,
 * enrolment), `device add`'s enrolment code (its pin is the certificate's
 * key; the store spends it once, refuses it used or expired, unseals the
 * device's token) and `export` in CSV and XLSX. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
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

#include "auth.h"
#include "config.h"
#include "enrol.h"
#include "kjs_enrol.h"
#include "store.h"

#ifndef KINERJAD_BIN
#error "KINERJAD_BIN must name the kinerjad binary"
#endif

typedef struct cenv {
  char dir[256], data[300];
  char out[65536], err[65536];
} cenv;

static void slurp(const char *path, char *buf, size_t size) {
  int fd = open(path, O_RDONLY);
  size_t len = 0;
  ssize_t r;
  while (fd >= 0 && (r = read(fd, buf + len, size - 1 - len)) > 0)
    len += (size_t)r;
  buf[len] = 0;
  if (fd >= 0)
    close(fd);
}

/* kinerjad --data DATA args... with standard input from /dev/null (never
 * a terminal); stdout/stderr in e->out/e->err; the exit status. */
static int run(cenv *e, const char *const *args) {
  char of[300], ef[300];
  snprintf(of, sizeof of, "%s/out.txt", e->dir);
  snprintf(ef, sizeof ef, "%s/err.txt", e->dir);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    int o = open(of, O_WRONLY | O_CREAT | O_TRUNC, 0600),
        x = open(ef, O_WRONLY | O_CREAT | O_TRUNC, 0600), in = open("/dev/null", O_RDONLY);
    dup2(o, 1);
    dup2(x, 2);
    dup2(in, 0);
    const char *argv[40];
    int n = 0;
    argv[n++] = KINERJAD_BIN;
    argv[n++] = "--data";
    argv[n++] = e->data;
    for (int i = 0; args[i] && n < 39; i++)
      argv[n++] = args[i];
    argv[n] = NULL;
    execv(KINERJAD_BIN, (char *const *)argv);
    _exit(127);
  }
  int st;
  waitpid(pid, &st, 0);
  slurp(of, e->out, sizeof e->out);
  slurp(ef, e->err, sizeof e->err);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}
#define RUN(e, ...) run((e), (const char *const[]){__VA_ARGS__, NULL})

static int setup(void **state) {
  cenv *e = calloc(1, sizeof *e);
  snprintf(e->dir, sizeof e->dir, "/tmp/kjs-bkd-XXXXXX");
  assert_non_null(mkdtemp(e->dir));
  snprintf(e->data, sizeof e->data, "%s/data", e->dir);
  assert_int_equal(RUN(e, "init"), 0); /* the real init: key and certificate too */
  unsetenv("KINERJAD_PASSWORD");
  *state = e;
  return 0;
}

static int teardown(void **state) {
  cenv *e = *state;
  char cmd[400];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", e->dir);
  if (system(cmd) != 0)
    fprintf(stderr, "cannot remove %s\n", e->dir);
  unsetenv("KINERJAD_PASSWORD");
  free(e);
  return 0;
}

static kjs_store *open_store(cenv *e) {
  kjs_config c;
  kj_err er;
  kj_err_clear(&er);
  assert_int_equal(kjs_config_init(&c, e->data, &er), KJ_OK);
  kjs_store *s;
  assert_int_equal(kjs_store_open(&s, c.db_file, NULL, 0, &er), KJ_OK);
  kjs_config_release(&c);
  return s;
}

static void write_file(const char *path, const char *text, mode_t mode) {
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
  assert_int_equal(chmod(path, mode), 0);
}

static void test_users(void **state) {
  cenv *e = *state;
  /* no password source and no terminal: told how to give one */
  assert_int_equal(RUN(e, "user", "add", "siti", "--role", "analyst"), 1);
  assert_non_null(strstr(e->err, "no password: give --password-file FILE or $KINERJAD_PASSWORD"));
  setenv("KINERJAD_PASSWORD", "pendek123", 1); /* 9 characters */
  assert_int_equal(RUN(e, "user", "add", "siti", "--role", "analyst"), 1);
  assert_non_null(strstr(e->err, "the password is too short: 9 characters, at least 10"));
  setenv("KINERJAD_PASSWORD", "sandi-yang-panjang", 1);
  assert_int_equal(RUN(e, "user", "add", "siti", "--role", "boss"), 1);
  assert_non_null(strstr(e->err, "--role must be admin or analyst, not 'boss'"));
  assert_int_equal(RUN(e, "user", "add", "-bad name", "--role", "admin"), 1);
  assert_int_equal(RUN(e, "user", "add", "si ti", "--role", "admin"), 1);
  assert_non_null(strstr(e->err, "bad user name 'si ti'"));
  assert_int_equal(RUN(e, "user", "add", "siti", "--role", "analyst"), 0);
  assert_non_null(strstr(e->out, "added user siti (analyst)"));
  assert_int_equal(RUN(e, "user", "add", "siti", "--role", "admin"), 1);
  assert_non_null(strstr(e->err, "user 'siti' already exists"));
  unsetenv("KINERJAD_PASSWORD");
  /* --password-file: its first line; refused while others may read it */
  char pf[400];
  snprintf(pf, sizeof pf, "%s/pw.txt", e->dir);
  write_file(pf, "kata sandi budi 2026\nnot this line\n", 0644);
  assert_int_equal(RUN(e, "user", "add", "budi", "--role", "admin", "--password-file", pf), 1);
  assert_non_null(strstr(e->err, "is open to other users (mode 644)"));
  assert_int_equal(chmod(pf, 0600), 0);
  assert_int_equal(RUN(e, "user", "add", "budi", "--role", "admin", "--password-file", pf), 0);
  /* list: names and roles, never a hash */
  assert_int_equal(RUN(e, "user", "list", "--json"), 0);
  cJSON *arr = cJSON_Parse(e->out);
  assert_non_null(arr);
  assert_int_equal(cJSON_GetArraySize(arr), 2);
  assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(arr, 0), "name")->valuestring, "budi");
  assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(arr, 0), "role")->valuestring,
                      "admin");
  assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(arr, 1), "role")->valuestring,
                      "analyst");
  cJSON_Delete(arr);
  assert_null(strstr(e->out, "argon2"));
  assert_int_equal(RUN(e, "user", "list"), 0);
  assert_non_null(strstr(e->out, "siti"));
  /* the database holds Argon2id hashes, not the passwords */
  char dbf[400];
  snprintf(dbf, sizeof dbf, "%s/kinerjad.db", e->data);
  sqlite3 *d;
  assert_int_equal(sqlite3_open(dbf, &d), SQLITE_OK);
  sqlite3_stmt *st;
  assert_int_equal(sqlite3_prepare_v2(d, "SELECT hash FROM users ORDER BY name", -1, &st, NULL),
                   SQLITE_OK);
  int n = 0;
  while (sqlite3_step(st) == SQLITE_ROW) {
    const char *h = (const char *)sqlite3_column_text(st, 0);
    assert_int_equal(strncmp(h, "$argon2id$v=19$m=19456,t=2,p=1$", 31), 0);
    assert_null(strstr(h, "sandi"));
    n++;
  }
  assert_int_equal(n, 2);
  sqlite3_finalize(st);
  sqlite3_close(d);
  /* the dashboard's check */
  kjs_store *s = open_store(e);
  char role[KJS_USER_ROLE_MAX + 1];
  kj_err er;
  kj_err_clear(&er);
  assert_int_equal(kjs_store_user_verify(s, "budi", "kata sandi budi 2026", role, &er), KJ_OK);
  assert_string_equal(role, "admin");
  assert_int_equal(kjs_store_user_verify(s, "siti", "sandi-yang-panjang", role, &er), KJ_OK);
  assert_string_equal(role, "analyst");
  assert_int_equal(kjs_store_user_verify(s, "siti", "sandi-yang-panjanG", role, &er), KJ_EAUTH);
  assert_string_equal(er.msg, "wrong user name or password");
  assert_string_equal(role, "");
  /* an unknown name costs the same Argon2id work as a wrong password */
  struct timespec t0, t1, t2;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  assert_int_equal(kjs_store_user_verify(s, "nobody", "sandi-yang-panjang", role, &er), KJ_EAUTH);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  assert_string_equal(er.msg, "wrong user name or password");
  assert_int_equal(kjs_store_user_verify(s, "siti", "salah-sandi-12", role, &er), KJ_EAUTH);
  clock_gettime(CLOCK_MONOTONIC, &t2);
  double unknown = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
         wrong = (double)(t2.tv_sec - t1.tv_sec) + (double)(t2.tv_nsec - t1.tv_nsec) / 1e9;
  assert_true(unknown > wrong / 4 && unknown > 0.005);
  kjs_store_close(s);
  assert_int_equal(RUN(e, "user", "list", "--json"), 0);
  assert_non_null(strstr(e->out, "\"last_login\":\t1")); /* siti signed in: a time */
  /* remove */
  assert_int_equal(RUN(e, "user", "remove", "siti"), 0);
  assert_int_equal(RUN(e, "user", "remove", "siti"), 1);
  assert_non_null(strstr(e->err, "no user 'siti'"));
  assert_int_equal(RUN(e, "user", "list"), 0);
  assert_null(strstr(e->out, "siti"));
  s = open_store(e);
  assert_int_equal(kjs_store_user_verify(s, "siti", "sandi-yang-panjang", role, &er), KJ_EAUTH);
  kjs_store_close(s);
  /* usage */
  assert_int_equal(RUN(e, "user", "delete", "budi"), 1);
  assert_non_null(strstr(e->err, "unknown user command 'delete'"));
  assert_int_equal(RUN(e, "user", "add", "x", "--rol", "admin"), 1);
  assert_non_null(strstr(e->err, "did you mean '--role'?"));
}

/* The value after "KEY: " in text into out. */
static void grab(const char *text, const char *key, char *out, size_t size) {
  const char *p = strstr(text, key);
  assert_non_null(p);
  p += strlen(key);
  size_t n = strcspn(p, "\n");
  assert_true(n < size);
  memcpy(out, p, n);
  out[n] = 0;
}

static cJSON *token_json(cenv *e, const char *id) {
  assert_int_equal(RUN(e, "token", "list", "--json"), 0);
  cJSON *arr = cJSON_Parse(e->out), *o;
  assert_non_null(arr);
  cJSON_ArrayForEach(o, arr) {
    if (!strcmp(cJSON_GetObjectItem(o, "id")->valuestring, id)) {
      cJSON *c = cJSON_Duplicate(o, 1);
      cJSON_Delete(arr);
      return c;
    }
  }
  cJSON_Delete(arr);
  fail_msg("no token %s in the list", id);
  return NULL;
}

static void test_tokens_and_codes(void **state) {
  cenv *e = *state;
  assert_int_equal(RUN(e, "token", "add", "--role", "viewer", "--name", "script"), 0);
  char vid[64], dev[64], tok[128], code[64];
  grab(e->out, "token id: ", vid, sizeof vid);
  assert_int_equal(RUN(e, "device", "add", "--office", "36.73.01", "--name", "PC depan"), 0);
  grab(e->out, "device id: ", dev, sizeof dev);
  grab(e->out, "device token: ", tok, sizeof tok);
  grab(e->out, "enrolment code: ", code, sizeof code);
  assert_int_equal(strlen(code), 29);
  assert_non_null(strstr(e->out, "valid until"));
  /* the code's pin is the certificate's key digest */
  unsigned char secret[KJ_ENROL_SECRET_LEN], pin[KJ_ENROL_PIN_LEN], spki[32];
  assert_int_equal(kj_enrol_code_parse(code, secret, pin, NULL), KJ_OK);
  char certf[400], pem[8192];
  snprintf(certf, sizeof certf, "%s/cert.pem", e->data);
  slurp(certf, pem, sizeof pem);
  assert_int_equal(kj_cert_spki_sha256(pem, strlen(pem), spki, NULL), KJ_OK);
  assert_memory_equal(pin, spki, KJ_ENROL_PIN_LEN);
  /* token list: all three, with what each is */
  assert_int_equal(RUN(e, "token", "list"), 0);
  assert_non_null(strstr(e->out, "initial admin"));
  assert_non_null(strstr(e->out, vid));
  assert_non_null(strstr(e->out, "PC depan"));
  assert_non_null(strstr(e->out, "pending"));
  assert_null(strstr(e->out, tok)); /* never a token */
  cJSON *o = token_json(e, dev);
  assert_string_equal(cJSON_GetObjectItem(o, "role")->valuestring, "device");
  assert_string_equal(cJSON_GetObjectItem(o, "office")->valuestring, "36.73.01");
  assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "last_seen")));
  assert_string_equal(cJSON_GetObjectItem(o, "enrolment")->valuestring, "pending");
  cJSON_Delete(o);
  /* the store spends the code once and unseals the device's token */
  kjs_store *s = open_store(e);
  unsigned char hash[32];
  kjs_enrol_hash(secret, hash);
  kj_err er;
  kj_err_clear(&er);
  assert_int_equal(kjs_store_enrol_check(s, hash, &er), KJ_OK);
  kjs_enrol_use use;
  /* a PC set up for another office: refused, naming both, and not spent */
  assert_int_equal(kjs_store_enrol_use(s, hash, "127.0.0.1:1", "36.73.02", &use, &er), KJ_EINVAL);
  assert_non_null(strstr(er.msg, "for office 36.73.01, not 36.73.02"));
  assert_non_null(strstr(er.msg, "not spent"));
  assert_string_equal(use.office, "36.73.01");
  assert_int_equal(use.sealed_len, 0); /* nothing of the token given */
  assert_int_equal(kjs_store_enrol_check(s, hash, &er), KJ_OK);
  assert_int_equal(kjs_store_enrol_use(s, hash, "127.0.0.1:1", "36.73.01", &use, &er), KJ_OK);
  assert_string_equal(use.device, dev);
  assert_string_equal(use.office, "36.73.01");
  char plain[129];
  kjs_enrol_seal(secret, use.sealed, use.sealed_len, (unsigned char *)plain);
  plain[use.sealed_len] = 0;
  assert_string_equal(plain, tok);
  assert_int_equal(kjs_store_enrol_use(s, hash, "127.0.0.1:2", NULL, &use, &er), KJ_EAUTH);
  assert_non_null(strstr(er.msg, "enrolment code already used"));
  assert_int_equal(kjs_store_enrol_check(s, hash, &er), KJ_EAUTH);
  /* a request with the token: last seen */
  kjs_principal who;
  char authz[200];
  snprintf(authz, sizeof authz, "Bearer %s", tok);
  assert_int_equal(kjs_auth_identify(s, authz, &who, NULL, NULL), KJ_OK);
  secret[0] ^= 1; /* a secret never issued */
  kjs_enrol_hash(secret, hash);
  assert_int_equal(kjs_store_enrol_check(s, hash, &er), KJ_EAUTH);
  assert_non_null(strstr(er.msg, "unknown enrolment code"));
  kjs_store_close(s);
  o = token_json(e, dev);
  assert_true(cJSON_IsNumber(cJSON_GetObjectItem(o, "last_seen")));
  assert_string_equal(cJSON_GetObjectItem(o, "enrolment")->valuestring, "used");
  cJSON_Delete(o);
  /* a code of a revoked device is refused */
  assert_int_equal(RUN(e, "device", "add", "--office", "36.73.02"), 0);
  char dev2[64], code2[64];
  grab(e->out, "device id: ", dev2, sizeof dev2);
  grab(e->out, "enrolment code: ", code2, sizeof code2);
  assert_int_equal(RUN(e, "token", "revoke", dev2), 0);
  assert_non_null(strstr(e->out, "revoked"));
  assert_int_equal(RUN(e, "token", "revoke", dev2), 1);
  assert_non_null(strstr(e->err, "already revoked"));
  assert_int_equal(kj_enrol_code_parse(code2, secret, pin, NULL), KJ_OK);
  kjs_enrol_hash(secret, hash);
  s = open_store(e);
  assert_int_equal(kjs_store_enrol_use(s, hash, "x", NULL, &use, &er), KJ_EAUTH);
  assert_non_null(strstr(er.msg, "revoked device"));
  kjs_store_close(s);
  o = token_json(e, dev2);
  assert_true(cJSON_IsNumber(cJSON_GetObjectItem(o, "revoked")));
  cJSON_Delete(o);
  o = token_json(e, vid);
  assert_string_equal(cJSON_GetObjectItem(o, "role")->valuestring, "viewer");
  assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "enrolment")));
  cJSON_Delete(o);
  assert_int_equal(RUN(e, "token", "revoke"), 1);
  assert_non_null(strstr(e->err, "which ID?"));
  assert_int_equal(RUN(e, "token", "lst"), 1);
  assert_non_null(strstr(e->err, "did you mean 'list'?"));
  /* without a certificate: the device, a warning, no code */
  char moved[420];
  snprintf(moved, sizeof moved, "%s.away", certf);
  assert_int_equal(rename(certf, moved), 0);
  assert_int_equal(RUN(e, "device", "add", "--office", "36.73.01"), 0);
  assert_non_null(strstr(e->out, "device token: "));
  assert_null(strstr(e->out, "enrolment code"));
  assert_non_null(strstr(e->err, "no enrolment code"));
}

/* Surveys of two offices and two months, one comment a formula. */
static void import_surveys(cenv *e) {
  char f[400], offices[400];
  snprintf(offices, sizeof offices, "%s/server/offices.csv",
           getenv("KJ_TEST_DATA") ? getenv("KJ_TEST_DATA") : KJ_TEST_DATA_DIR);
  assert_int_equal(RUN(e, "import", "office", offices), 0);
  snprintf(f, sizeof f, "%s/s.csv", e->dir);
  write_file(f,
             "id,office,date,service,u1,u2,u3,u4,u5,u6,u7,u8,u9,age,sex,education,occupation,"
             "comment\n"
             "0190c2a4-7d1e-7b3a-9c41-000000000001,36.73.01,2026-09-02,KTP-el,4,3,3,3,3,3,3,3,2,"
             "41,L,,,\"=HYPERLINK(\"\"http://x\"\")\"\n"
             "0190c2a4-7d1e-7b3a-9c41-000000000002,36.73.01,2026-10-05,KTP-el,1,3,3,3,3,3,3,3,3,"
             ",,,,biasa\n"
             "0190c2a4-7d1e-7b3a-9c41-000000000003,36.73.02,2026-09-07,KK,2,2,2,2,2,2,2,2,2,,,,,\n",
             0600);
  assert_int_equal(RUN(e, "import", "survey", f), 0);
}

typedef struct seen_comments {
  int n;
  char text[16][160];
} seen_comments;

static kj_code note_comment(void *ctx, const char *date, const char *service, const char *comment) {
  seen_comments *x = ctx;
  if (x->n < 16)
    snprintf(x->text[x->n++], sizeof x->text[0], "%s|%s|%s", date, service, comment);
  return KJ_OK;
}

/* The Kantor page's citizens' comments (kjs_store_comments): the office's
 * own, in the period, not empty, newest first, at most max. */
static void test_comments(void **state) {
  cenv *e = *state;
  import_surveys(e);
  char f[400];
  snprintf(f, sizeof f, "%s/s2.csv", e->dir);
  write_file(f,
             "id,office,date,service,u1,u2,u3,u4,u5,u6,u7,u8,u9,age,sex,education,occupation,"
             "comment\n"
             "0190c2a4-7d1e-7b3a-9c41-000000000011,36.73.01,2026-09-30,KK,3,3,3,3,3,3,3,3,3,"
             ",,,,antre lama\n"
             "0190c2a4-7d1e-7b3a-9c41-000000000012,36.73.01,2026-10-31,KK,3,3,3,3,3,3,3,3,3,"
             ",,,,\n"
             "0190c2a4-7d1e-7b3a-9c41-000000000013,36.73.01,2026-11-01,KK,3,3,3,3,3,3,3,3,3,"
             ",,,,bulan lain\n"
             "0190c2a4-7d1e-7b3a-9c41-000000000014,36.73.02,2026-10-01,KK,3,3,3,3,3,3,3,3,3,"
             ",,,,kantor lain\n",
             0600);
  assert_int_equal(RUN(e, "import", "survey", f), 0);
  kjs_store *s = open_store(e);
  kj_err er;
  kj_err_clear(&er);
  seen_comments x = {0};
  assert_int_equal(kjs_store_comments(s, "36.73.01", "2026-Q3", 50, note_comment, &x, &er), KJ_OK);
  assert_int_equal(x.n, 2);
  assert_string_equal(x.text[0], "2026-09-30|KK|antre lama");
  assert_string_equal(x.text[1], "2026-09-02|KTP-el|=HYPERLINK(\"http://x\")");
  memset(&x, 0, sizeof x);
  assert_int_equal(kjs_store_comments(s, "36.73.01", "2026", 2, note_comment, &x, &er), KJ_OK);
  assert_int_equal(x.n, 2); /* the newest two of four, the empty one left out */
  assert_string_equal(x.text[0], "2026-11-01|KK|bulan lain");
  assert_string_equal(x.text[1], "2026-10-05|KTP-el|biasa");
  memset(&x, 0, sizeof x);
  assert_int_equal(kjs_store_comments(s, "36.73.02", "2026-10", 50, note_comment, &x, &er), KJ_OK);
  assert_int_equal(x.n, 1);
  assert_string_equal(x.text[0], "2026-10-01|KK|kantor lain");
  assert_int_equal(kjs_store_comments(s, "36.73.01", "2026-13", 50, note_comment, &x, &er),
                   KJ_EINVAL);
  kjs_store_close(s);
}

static void test_export(void **state) {
  cenv *e = *state;
  import_surveys(e);
  /* CSV on standard output: the import file's columns, the formula guarded */
  assert_int_equal(RUN(e, "export", "survey"), 0);
  static const char head[] = "id,office,date,service,u1,u2,u3,u4,u5,u6,u7,u8,u9,age,sex,"
                             "education,occupation,comment\n";
  assert_int_equal(strncmp(e->out, head, strlen(head)), 0);
  assert_non_null(strstr(e->out, "\"'=HYPERLINK(\"\"http://x\"\")\""));
  int lines = 0;
  for (const char *p = e->out; *p; p++)
    lines += *p == '\n';
  assert_int_equal(lines, 4);
  /* filters */
  assert_int_equal(RUN(e, "export", "surveys", "--office", "36.73.01", "--period", "2026-09"), 0);
  assert_non_null(strstr(e->out, "000000000001"));
  assert_null(strstr(e->out, "000000000002"));
  assert_null(strstr(e->out, "000000000003"));
  assert_int_equal(RUN(e, "export", "survey", "--period", "2026-Q4"), 0);
  assert_non_null(strstr(e->out, "000000000002"));
  assert_null(strstr(e->out, "000000000001"));
  assert_int_equal(RUN(e, "export", "office", "--office", "36.73.02"), 0);
  assert_non_null(strstr(e->out, "36.73.02,"));
  assert_null(strstr(e->out, "36.73.01,"));
  /* errors */
  assert_int_equal(RUN(e, "export", "survey", "--period", "2026-13"), 1);
  assert_non_null(strstr(e->err, "bad period '2026-13'"));
  assert_int_equal(RUN(e, "export", "office", "--period", "2026"), 1);
  assert_non_null(strstr(e->err, "--period does not apply"));
  assert_int_equal(RUN(e, "export", "indicator", "--office", "36.73.01"), 1);
  assert_non_null(strstr(e->err, "--office does not apply"));
  assert_int_equal(RUN(e, "export", "survey", "--format", "ods"), 1);
  assert_non_null(strstr(e->err, "unknown format 'ods' (csv or xlsx)"));
  assert_int_equal(RUN(e, "export", "surveyy"), 1);
  assert_non_null(strstr(e->err, "did you mean 'survey'?"));
  /* XLSX into a file: a zip with the sheet, dates and numbers as values */
  char x[400], cmd[1200], sheet[65536], wb[8192];
  snprintf(x, sizeof x, "%s/ikm.xlsx", e->dir);
  assert_int_equal(
      RUN(e, "export", "survey", "--office", "36.73.01", "--format", "xlsx", "--output", x), 0);
  assert_non_null(strstr(e->err, "exported 2 surveys to"));
  snprintf(cmd, sizeof cmd,
           "cd '%s' && python3 -m zipfile -l ikm.xlsx >list.txt && python3 -c \"import zipfile; "
           "z = zipfile.ZipFile('ikm.xlsx'); open('sheet.xml', 'wb').write(z.read("
           "'xl/worksheets/sheet1.xml')); open('wb.xml', 'wb').write(z.read('xl/workbook.xml'))\"",
           e->dir);
  assert_int_equal(system(cmd), 0);
  snprintf(x, sizeof x, "%s/list.txt", e->dir);
  slurp(x, sheet, sizeof sheet);
  assert_non_null(strstr(sheet, "xl/worksheets/sheet1.xml"));
  snprintf(x, sizeof x, "%s/wb.xml", e->dir);
  slurp(x, wb, sizeof wb);
  assert_non_null(strstr(wb, "<sheet name=\"surveys\""));
  snprintf(x, sizeof x, "%s/sheet.xml", e->dir);
  slurp(x, sheet, sizeof sheet);
  /* C2: the date 2026-09-02 as a serial day number (46267) with a style;
   * E2: u1 = 4 as a number; N2: age 41 */
  assert_non_null(strstr(sheet, "<c r=\"C2\" s=\"2\"><v>46267</v></c>"));
  assert_non_null(strstr(sheet, "<c r=\"E2\"><v>4</v></c>"));
  assert_non_null(strstr(sheet, "<c r=\"N2\"><v>41</v></c>"));
  assert_non_null(strstr(sheet, "<c r=\"A1\" s=\"1\" t=\"inlineStr\"><is><t>id</t>")); /* bold */
  assert_null(strstr(sheet, "<c r=\"A4\"")); /* two records: rows 2 and 3 */
  assert_null(strstr(sheet, "<f>"));         /* no formula anywhere */
  /* standard output (not a terminal here): the same kind of file */
  assert_int_equal(RUN(e, "export", "office", "--format", "xlsx"), 0);
  assert_int_equal(memcmp(e->out, "PK\003\004", 4), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_users, setup, teardown),
      cmocka_unit_test_setup_teardown(test_tokens_and_codes, setup, teardown),
      cmocka_unit_test_setup_teardown(test_export, setup, teardown),
      cmocka_unit_test_setup_teardown(test_comments, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
