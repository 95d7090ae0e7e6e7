/* test_person.c - people and PINs end to end (issue 16): the real kinerjad
 * and kinerja over loopback TLS.  `kinerjad person activate` stores only a
 * hash and the activation reaches the PCs of the person's office and no
 * other; `kinerja person setup` sets a PIN with the code; `approve ID...
 * --as NIP` signs in and approves 20 activities at once with the NIP as
 * author (seen in `kinerjad history`); five wrong PINs lock the person
 * (also for the right PIN, across processes) until a time it names; an
 * expired code and --as without a PIN are refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cJSON.h>
#include <cmocka.h>

#include "kjt.h"
#include "syncenv.h"

#define OA "36.73.01"
#define OB "36.73.02"
#define HEAD "198503012020112001"  /* Nur Dewi, 36.73.01, no supervisor */
#define STAFF "196604102014071002" /* Maya Wulan, 36.73.01, supervisor HEAD */
#define PIN "246810"

static syncenv *g;

static int setup(void **state) {
  (void)state;
  g = syncenv_new();
  syncenv_start(g, 0);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  syncenv_free(g);
  g = NULL;
  return 0;
}

/* kinerjad --data DIR ARGS with stdout and stderr together into out. */
static int admin_all(char *out, size_t size, const char *args) {
  char cmd[2048];
  snprintf(cmd, sizeof cmd, "'%s' --data '%s' %s 2>&1", KINERJAD_BIN, g->data, args);
  FILE *p = popen(cmd, "r");
  assert_non_null(p);
  size_t n = fread(out, 1, size - 1, p);
  out[n] = 0;
  int st = pclose(p);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

/* `kinerjad person activate nip` (env: e.g. a skewed clock); the code. */
static void activate(const char *nip, const char *const *env, const char *days, char code[32]) {
  char out[1024];
  const char *args[] = {"person", "activate", nip, days ? "--days" : NULL, days, NULL};
  assert_int_equal(syncenv_admin_env(g, env, out, sizeof out, args), 0);
  const char *p = strstr(out, "activation code: ");
  assert_non_null(p);
  p += strlen("activation code: ");
  size_t n = strcspn(p, "\n");
  assert_int_equal(n, 14);
  memcpy(code, p, n);
  code[n] = 0;
  assert_true(code[4] == '-' && code[9] == '-');
}

/* kinerja with KINERJA_PIN=pin (NULL: none, and stdin empty). */
static int as_run(const char *db, const char *pin, char **out, char **err,
                  const char *const *args) {
  char envpin[64];
  snprintf(envpin, sizeof envpin, "KINERJA_PIN=%s", pin ? pin : "");
  const char *env[] = {pin ? envpin : "KJT_STDIN=", NULL};
  return syncenv_kinerja(db, env, out, err, args);
}

static char *add_activity(const char *db, const char *nip) {
  char *out = NULL, nipa[40];
  snprintf(nipa, sizeof nipa, "nip=%s", nip);
  assert_int_equal(syncenv_kinerja(db, NULL, &out, NULL,
                                   (const char *const[]){"add", "activity", nipa, "date=2026-03-02",
                                                         "indicator=DOC", "quantity=2", NULL}),
                   0);
  out[strcspn(out, "\n")] = 0;
  assert_int_equal(strlen(out), 36);
  return out;
}

/* A PC of OA whose HEAD has set PIN. */
static const char *pc_with_pin(void) {
  const char *a = syncenv_client(g, "pa", OA, g->url);
  char code[32];
  activate(HEAD, NULL, NULL, code);
  assert_int_equal(syncenv_sync_until_ok(a, 3), 0);
  char *out = NULL;
  assert_int_equal(as_run(a, PIN, &out, NULL,
                          (const char *const[]){"person", "setup", HEAD, "--code", code, NULL}),
                   0);
  assert_non_null(strstr(out, "PIN set for " HEAD));
  free(out);
  return a;
}

static void test_activate_cli(void **state) {
  (void)state;
  char out[4096];
  assert_int_equal(admin_all(out, sizeof out, "person activate 199001012020121999"), 1);
  assert_non_null(strstr(out, "no employee '199001012020121999' on the roster"));
  assert_int_equal(admin_all(out, sizeof out, "person activate 12345"), 1);
  assert_non_null(strstr(out, "'12345' is not a NIP"));
  assert_int_equal(admin_all(out, sizeof out, "person activate " STAFF " --days 0"), 1);
  assert_non_null(strstr(out, "--days must be a whole number from 1 to 365"));
  assert_int_equal(admin_all(out, sizeof out, "person frob"), 1);

  char c1[32], c2[32];
  activate(STAFF, NULL, "7", c1);
  activate(STAFF, NULL, NULL, c2);
  assert_string_not_equal(c1, c2);
  /* the code itself is nowhere in the server's files, its hash is */
  char path[700], plain[16];
  snprintf(path, sizeof path, "%s/kinerjad.db", g->data);
  snprintf(plain, sizeof plain, "%.4s%.4s%.4s", c2, c2 + 5, c2 + 10);
  char *db = kjt_read(path);
  assert_non_null(db);
  char cmd[1200];
  snprintf(cmd, sizeof cmd, "cat '%s'* | grep -c -a -e '%s' -e '%s'", path, c2, plain);
  FILE *p = popen(cmd, "r");
  char n[16] = "";
  assert_non_null(fgets(n, sizeof n, p));
  pclose(p);
  assert_string_equal(n, "0\n");
  free(db);
  snprintf(cmd, sizeof cmd,
           "sqlite3 '%s' \"SELECT count(*) FROM records WHERE type = 'activation' AND office = "
           "'" OA "' AND state LIKE '%%argon2id%%'\"",
           path);
  p = popen(cmd, "r");
  assert_non_null(fgets(n, sizeof n, p));
  pclose(p);
  assert_string_equal(n, "1\n"); /* one record per person: the second replaced the first */
}

static void test_activation_reaches_own_office_only(void **state) {
  (void)state;
  const char *a = syncenv_client(g, "a", OA, g->url);
  const char *b = syncenv_client(g, "b", OB, g->url);
  char code[32];
  activate(STAFF, NULL, NULL, code);
  assert_int_equal(syncenv_sync_until_ok(a, 3), 0);
  assert_int_equal(syncenv_sync_until_ok(b, 3), 0);
  char *out = NULL;
  assert_int_equal(
      syncenv_kinerja(a, NULL, &out, NULL, (const char *const[]){"list", "activation", NULL}), 0);
  assert_int_equal(kjt_lines(out), 1);
  assert_non_null(strstr(out, "nip=" STAFF));
  free(out);
  assert_int_equal(
      syncenv_kinerja(b, NULL, &out, NULL, (const char *const[]){"list", "activation", NULL}), 0);
  assert_string_equal(out, "");
  free(out);
  /* person list at A: the staff member has a code waiting, no PIN yet */
  assert_int_equal(
      syncenv_kinerja(a, NULL, &out, NULL, (const char *const[]){"person", "list", "--json", NULL}),
      0);
  cJSON *arr = cJSON_Parse(out);
  free(out);
  assert_non_null(arr);
  int seen = 0;
  cJSON *o;
  cJSON_ArrayForEach(o, arr) {
    assert_string_not_equal(cJSON_GetObjectItem(o, "nip")->valuestring, "199703032019032005");
    if (!strcmp(cJSON_GetObjectItem(o, "nip")->valuestring, STAFF)) {
      seen = 1;
      assert_string_equal(cJSON_GetObjectItem(o, "name")->valuestring, "Maya Wulan");
      assert_true(cJSON_IsFalse(cJSON_GetObjectItem(o, "pin")));
      assert_non_null(cJSON_GetObjectItem(o, "code_expires"));
    }
  }
  assert_true(seen);
  cJSON_Delete(arr);
  /* B cannot set it up: nothing reached it (and STAFF is not on B's roster) */
  char *err = NULL;
  assert_int_equal(as_run(b, PIN, NULL, &err,
                          (const char *const[]){"person", "setup", STAFF, "--code", code, NULL}),
                   1);
  assert_non_null(strstr(err, "not on the roster of office '" OB "'"));
  free(err);
}

static void test_setup_and_approve_many(void **state) {
  (void)state;
  const char *a = syncenv_client(g, "pa", OA, g->url);
  char code[32];
  activate(HEAD, NULL, NULL, code);
  assert_int_equal(syncenv_sync_until_ok(a, 3), 0);
  char *out = NULL, *err = NULL;
  /* a wrong code, a short PIN: refused, nothing set */
  assert_int_equal(
      as_run(a, PIN, NULL, &err,
             (const char *const[]){"person", "setup", HEAD, "--code", "AAAA-BBBB-CCCC", NULL}),
      1);
  assert_non_null(strstr(err, "wrong activation code for " HEAD ": 4 tries left"));
  free(err);
  assert_int_equal(as_run(a, "123", NULL, &err,
                          (const char *const[]){"person", "setup", HEAD, "--code", code, NULL}),
                   1);
  assert_non_null(strstr(err, "a PIN is 6 to 32 digits"));
  free(err);
  /* interactive form on a pipe: code, PIN, PIN (lower case code accepted) */
  char input[128], lower[32];
  for (int i = 0; code[i]; i++)
    lower[i] = (char)(code[i] >= 'A' && code[i] <= 'Z' ? code[i] + 32 : code[i]);
  lower[strlen(code)] = 0;
  snprintf(input, sizeof input, "KJT_STDIN=%s\n%s\n%s\n", lower, PIN, PIN);
  assert_int_equal(syncenv_kinerja(a, (const char *const[]){input, NULL}, &out, &err,
                                   (const char *const[]){"person", "setup", HEAD, NULL}),
                   0);
  assert_non_null(strstr(out, "PIN set for " HEAD));
  free(out);
  free(err);
  /* the code works once */
  assert_int_equal(as_run(a, PIN, NULL, &err,
                          (const char *const[]){"person", "setup", HEAD, "--code", code, NULL}),
                   1);
  assert_non_null(strstr(err, "was used already"));
  free(err);

  char *ids[20];
  for (int i = 0; i < 20; i++)
    ids[i] = add_activity(a, STAFF);
  assert_int_equal(syncenv_kinerja(a, NULL, &out, NULL,
                                   (const char *const[]){"list", "activity", "--status",
                                                         "submitted", "--nip", STAFF, "--from",
                                                         "2026-03-01", "--to", "2026-03-31", NULL}),
                   0);
  assert_int_equal(kjt_lines(out), 20);
  free(out);
  assert_int_equal(syncenv_kinerja(a, NULL, &out, NULL,
                                   (const char *const[]){"list", "activity", "--status",
                                                         "submitted", "--to", "2026-03-01", NULL}),
                   0);
  assert_string_equal(out, "");
  free(out);
  const char *args[32];
  int n = 0;
  args[n++] = "approve";
  for (int i = 0; i < 20; i++)
    args[n++] = ids[i];
  args[n++] = "--as";
  args[n++] = HEAD;
  args[n] = NULL;
  assert_int_equal(as_run(a, PIN, &out, &err, args), 0);
  assert_int_equal(kjt_lines(out), 21);
  assert_non_null(strstr(out, "approved 20 of 20 activities as " HEAD "\n"));
  free(out);
  free(err);
  for (int i = 0; i < 20; i++) {
    char *v = syncenv_field(a, "activity", ids[i], "status");
    assert_string_equal(v, "approved");
    free(v);
    v = syncenv_field(a, "activity", ids[i], "reviewed_by");
    assert_string_equal(v, HEAD);
    free(v);
  }
  assert_int_equal(
      syncenv_kinerja(a, NULL, &out, NULL,
                      (const char *const[]){"list", "activity", "--status", "submitted", NULL}),
      0);
  assert_string_equal(out, "");
  free(out);
  /* the server keeps the approver as the author */
  assert_int_equal(syncenv_sync_until_ok(a, 3), 0);
  char hist[8192];
  assert_int_equal(
      syncenv_admin(g, hist, sizeof hist, (const char *const[]){"history", ids[7], "--json", NULL}),
      0);
  assert_non_null(strstr(hist, HEAD));
  assert_non_null(strstr(hist, "operator"));

  /* reject one with a reason: kept with the review at this PC */
  assert_int_equal(as_run(a, PIN, &out, NULL,
                          (const char *const[]){"reject", ids[0], "--as", HEAD, "--reason",
                                                "bukti tidak ada", NULL}),
                   0);
  assert_non_null(strstr(out, "rejected 1 of 1 activity as " HEAD "; reason: bukti tidak ada"));
  free(out);
  assert_int_equal(
      syncenv_kinerja(a, NULL, &out, NULL, (const char *const[]){"show", ids[0], NULL}), 0);
  assert_non_null(strstr(out, "review       rejected by " HEAD " at this PC: bukti tidak ada"));
  free(out);
  /* in Indonesian the review line is Indonesian too (--json keeps the English) */
  assert_int_equal(syncenv_kinerja(a, (const char *const[]){"LANGUAGE=id", NULL}, &out, NULL,
                                   (const char *const[]){"show", ids[0], NULL}),
                   0);
  assert_non_null(strstr(out, "review       ditolak oleh " HEAD " di PC ini: bukti tidak ada\n"));
  free(out);
  for (int i = 0; i < 20; i++)
    free(ids[i]);
}

static void test_lockout(void **state) {
  (void)state;
  const char *a = pc_with_pin();
  char *id = add_activity(a, STAFF);
  char *err = NULL;
  for (int i = 1; i <= 5; i++) {
    assert_int_equal(
        as_run(a, "999999", NULL, &err, (const char *const[]){"approve", id, "--as", HEAD, NULL}),
        1);
    char want[80];
    if (i < 5)
      snprintf(want, sizeof want, "wrong PIN for %s: %d tr", HEAD, 5 - i);
    else
      snprintf(want, sizeof want, "wrong PIN for %s: 5 wrong tries, locked until ", HEAD);
    if (!strstr(err, want))
      fail_msg("try %d: '%s' lacks '%s'", i, err, want);
    free(err);
  }
  /* the sixth, with the right PIN, in a new process: still locked */
  assert_int_equal(
      as_run(a, PIN, NULL, &err, (const char *const[]){"approve", id, "--as", HEAD, NULL}), 1);
  assert_non_null(strstr(err, HEAD " is locked after 5 wrong tries until 20"));
  assert_non_null(strstr(err, " WIB"));
  free(err);
  /* locked: said before a PIN is asked (none given here: not "no PIN given") */
  assert_int_equal(as_run(a, NULL, NULL, &err,
                          (const char *const[]){"reject", id, "--as", HEAD, "--reason",
                                                "bukti tidak ada", NULL}),
                   1);
  assert_non_null(strstr(err, HEAD " is locked after 5 wrong tries until 20"));
  assert_null(strstr(err, "no PIN given"));
  free(err);
  char *v = syncenv_field(a, "activity", id, "status");
  assert_null(v); /* nothing approved: still submitted by default */
  /* 16 minutes later the right PIN works again */
  static const char *const later[] = {"LD_PRELOAD=" SKEWCLOCK_LIB, "KJ_TEST_CLOCK_SKEW_MS=960000",
                                      "KINERJA_PIN=" PIN, NULL};
  char *out = NULL;
  assert_int_equal(syncenv_kinerja(a, later, &out, NULL,
                                   (const char *const[]){"approve", id, "--as", HEAD, NULL}),
                   0);
  free(out);
  v = syncenv_field(a, "activity", id, "status");
  assert_string_equal(v, "approved");
  free(v);
  free(id);
}

static void test_expired_code(void **state) {
  (void)state;
  const char *a = syncenv_client(g, "pa", OA, g->url);
  char code[32];
  /* valid one day; the PC tries it two days later */
  activate(STAFF, NULL, "1", code);
  assert_int_equal(syncenv_sync_until_ok(a, 3), 0);
  char later[64], *err = NULL;
  snprintf(later, sizeof later, "KINERJA_PIN=%s", PIN);
  const char *const env[] = {"LD_PRELOAD=" SKEWCLOCK_LIB, "KJ_TEST_CLOCK_SKEW_MS=172800000", later,
                             NULL};
  assert_int_equal(
      syncenv_kinerja(a, env, NULL, &err,
                      (const char *const[]){"person", "setup", STAFF, "--code", code, NULL}),
      1);
  assert_non_null(strstr(err, "the activation code of " STAFF " expired on "));
  free(err);
  /* the same code in time works */
  assert_int_equal(as_run(a, PIN, NULL, NULL,
                          (const char *const[]){"person", "setup", STAFF, "--code", code, NULL}),
                   0);
  /* a new code (what a forgotten PIN needs too) works */
  activate(STAFF, NULL, NULL, code);
  assert_int_equal(syncenv_sync_until_ok(a, 3), 0);
  assert_int_equal(as_run(a, PIN, NULL, NULL,
                          (const char *const[]){"person", "setup", STAFF, "--code", code, NULL}),
                   0);
}

static void test_as_needs_pin(void **state) {
  (void)state;
  const char *a = pc_with_pin();
  char *err = NULL, *out = NULL;
  /* no PIN anywhere (stdin empty, no $KINERJA_PIN, no --pin-file) */
  assert_int_equal(
      as_run(a, NULL, NULL, &err,
             (const char *const[]){"add", "activity", ("nip=" STAFF), "date=2026-03-02",
                                   "indicator=DOC", "quantity=1", "--as", HEAD, NULL}),
      1);
  assert_non_null(strstr(err, "--as " HEAD ": no PIN given"));
  free(err);
  /* a person without a PIN here */
  assert_int_equal(
      as_run(a, PIN, NULL, &err,
             (const char *const[]){"add", "activity", ("nip=" STAFF), "date=2026-03-02",
                                   "indicator=DOC", "quantity=1", "--as", STAFF, NULL}),
      1);
  assert_non_null(strstr(err, STAFF " has no PIN at this PC"));
  free(err);
  /* ... said before a PIN is asked, for every --as command that signs in */
  char *nid = add_activity(a, STAFF), acsv[700];
  snprintf(acsv, sizeof acsv, "%s/acts.csv", g->dir);
  kjt_write(acsv, "nip,date,indicator,quantity\n" STAFF ",2026-03-02,DOC,1\n");
  const char *const no_pin[][12] = {
      {"add", "activity", ("nip=" STAFF), "date=2026-03-02", "indicator=DOC", "quantity=1", "--as",
       STAFF, NULL},
      {"approve", nid, "--as", STAFF, NULL},
      {"reject", nid, "--as", STAFF, "--reason", "x", NULL},
      {"update", nid, "quantity=2", "--as", STAFF, NULL},
      {"delete", nid, "--as", STAFF, NULL},
      {"import", "activity", acsv, "--as", STAFF, NULL},
  };
  for (size_t i = 0; i < sizeof no_pin / sizeof no_pin[0]; i++) {
    assert_int_equal(as_run(a, NULL, NULL, &err, no_pin[i]), 1);
    if (!strstr(err, STAFF " has no PIN at this PC") || strstr(err, "no PIN given"))
      fail_msg("%s --as without a PIN here: '%s'", no_pin[i][0], err);
    free(err);
  }
  free(nid);
  /* a rating needs --as */
  assert_int_equal(
      as_run(a, PIN, NULL, &err,
             (const char *const[]){
                 "add", "rating", "period=2026", ("rater=" HEAD),
                 // NOLINTNEXTLINE(bugprone-suspicious-missing-comma): "ratee=" R_X is one argument
                 ("ratee=" STAFF), "role=atasan", "s1=4", "s2=4", "s3=4", "s4=4", "s5=4", "s6=4",
                 "s7=4", NULL}),
      2);
  assert_non_null(strstr(err, "--as NIP is required"));
  free(err);
  char csv[700];
  snprintf(csv, sizeof csv, "%s/ratings.csv", g->dir);
  kjt_write(csv, "id,office,period,rater,ratee,role,s1,s2,s3,s4,s5,s6,s7,comment\n"
                 ",,"
                 "2026," HEAD "," STAFF ",atasan,4,4,4,4,4,4,4,\n");
  assert_int_equal(as_run(a, PIN, NULL, &err, (const char *const[]){"import", "rating", csv, NULL}),
                   2);
  assert_non_null(strstr(err, "import rating: --as NIP is required"));
  free(err);
  /* person list as text: the name beside the NIP, the PIN set */
  assert_int_equal(
      syncenv_kinerja(a, NULL, &out, NULL, (const char *const[]){"person", "list", NULL}), 0);
  const char *line = strstr(out, HEAD "  Nur Dewi");
  assert_non_null(line);
  char row[200];
  snprintf(row, sizeof row, "%.*s", (int)strcspn(line, "\n"), line);
  assert_non_null(strstr(row, "  set  "));
  assert_null(strstr(row, "not set"));
  free(out);
  out = NULL;
  /* the PIN from a file; the change's author is the person */
  char pinfile[700];
  snprintf(pinfile, sizeof pinfile, "%s/pin.txt", g->dir);
  kjt_write(pinfile, PIN "\n");
  /* a PIN file others may read is refused, as a token file is */
  assert_int_equal(chmod(pinfile, 0644), 0);
  char *perr = NULL;
  assert_int_equal(as_run(a, NULL, &out, &perr,
                          (const char *const[]){"add", "activity", ("nip=" STAFF),
                                                "date=2026-03-02", "indicator=DOC", "quantity=1",
                                                "--as", HEAD, "--pin-file", pinfile, NULL}),
                   1);
  assert_non_null(strstr(perr, "is open to other users (mode 644): run 'chmod 600"));
  free(perr);
  free(out);
  out = NULL;
  assert_int_equal(chmod(pinfile, 0600), 0);
  assert_int_equal(as_run(a, NULL, &out, NULL,
                          (const char *const[]){"add", "activity", ("nip=" STAFF),
                                                "date=2026-03-02", "indicator=DOC", "quantity=1",
                                                "--as", HEAD, "--pin-file", pinfile, NULL}),
                   0);
  out[strcspn(out, "\n")] = 0;
  assert_int_equal(syncenv_sync_until_ok(a, 3), 0);
  char hist[8192];
  assert_int_equal(
      syncenv_admin(g, hist, sizeof hist, (const char *const[]){"history", out, "--json", NULL}),
      0);
  assert_non_null(strstr(hist, HEAD));
  free(out);
}

int main(void) {
  /* a child never waits for a PIN typed at the terminal running the tests */
  if (!freopen("/dev/null", "r", stdin))
    return 1;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_activate_cli, setup, teardown),
      cmocka_unit_test_setup_teardown(test_activation_reaches_own_office_only, setup, teardown),
      cmocka_unit_test_setup_teardown(test_setup_and_approve_many, setup, teardown),
      cmocka_unit_test_setup_teardown(test_lockout, setup, teardown),
      cmocka_unit_test_setup_teardown(test_expired_code, setup, teardown),
      cmocka_unit_test_setup_teardown(test_as_needs_pin, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
