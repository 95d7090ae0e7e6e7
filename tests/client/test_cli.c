/* test_cli.c - the real `kinerja` binary end to end: commands, CSV import
 * and export, outbox contents, concurrent writers, bad environments. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <sqlite3.h>

#include "kjt.h"
#include "kjt_pulled.h"
#include "passhash.h"
#include "store.h"
#include "sync.h"

#define SURVEY_HEADER                                                                              \
  "id,office,date,service,u1,u2,u3,u4,u5,u6,u7,u8,u9,age,sex,education,occupation,comment\n"
#define NIP1 "198001012005011001"
#define NIP2 "198502022010012002"

typedef struct fx {
  char *dir;
  const char *db;
} fx;

static int setup(void **state) {
  fx *f = calloc(1, sizeof *f);
  f->dir = kjt_tmpdir();
  f->db = strdup(kjt_path(f->dir, "k.db"));
  kjt_run r;
  int rc = KJT(&r, f->db, "init", "--office", "36.73.04");
  if (rc != 0)
    fprintf(stderr, "init failed: %s", r.err);
  kjt_run_release(&r);
  *state = f;
  return rc;
}

static int teardown(void **state) {
  fx *f = *state;
  free((char *)f->db);
  kjt_rmdir(f->dir);
  free(f);
  return 0;
}

/* Run and expect an exit code; returns the run for more checks. */
#define RUN(r, f, code, ...)                                                                       \
  do {                                                                                             \
    int rc_ = KJT(&(r), (f)->db, __VA_ARGS__);                                                     \
    if (rc_ != (code))                                                                             \
      fprintf(stderr, "exit %d\nstdout: %s\nstderr: %s\n", rc_, (r).out, (r).err);                 \
    assert_int_equal(rc_, (code));                                                                 \
  } while (0)

static kjc_store *open_store(fx *f) {
  kjc_store *s = NULL;
  kj_err err;
  kj_err_clear(&err);
  if (kjc_store_open(&s, f->db, KJC_OPEN_WRITE, &err))
    fail_msg("open: %s", err.msg);
  return s;
}

static long count_live(fx *f, kj_rtype t) {
  kjc_store *s = open_store(f);
  long n = kjc_record_count(s, t);
  kjc_store_close(s);
  return n;
}

static long count_pending(fx *f) {
  kjc_store *s = open_store(f);
  kjc_outbox_stats st;
  kj_err err;
  assert_int_equal(kjc_outbox_stats_get(s, &st, &err), KJ_OK);
  kjc_store_close(s);
  return st.pending;
}

/* Strip the trailing newline of an id printed by add. */
static char *chomp(char *s) {
  size_t n = strlen(s);
  while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
    s[--n] = 0;
  return s;
}

static char *add_survey(fx *f, const char *u1) {
  kjt_run r;
  char a[16];
  snprintf(a, sizeof a, "u1=%s", u1);
  RUN(r, f, 0, "add", "survey", "date=2026-03-02", "service=KTP-el", a, "u2=3", "u3=4", "u4=4",
      "u5=3", "u6=4", "u7=4", "u8=3", "u9=4", "sex=P", "comment=ramah");
  char *id = strdup(chomp(r.out));
  kjt_run_release(&r);
  assert_int_equal(strlen(id), 36);
  return id;
}

/* ---- commands ---- */

static void t_init_refuses_existing_and_missing_db(void **state) {
  fx *f = *state;
  kjt_run r;
  RUN(r, f, 1, "init", "--office", "36.73.04");
  assert_non_null(strstr(r.err, "already exists"));
  kjt_run_release(&r);

  const char *missing = kjt_path(f->dir, "none.db");
  assert_int_equal(KJT(&r, missing, "list", "survey"), 1);
  char want[4200];
  snprintf(want, sizeof want, "kinerja: no database at '%s': run 'kinerja init --office CODE'\n",
           missing);
  assert_string_equal(r.err, want);
  kjt_run_release(&r);
  assert_int_equal(access(missing, F_OK), -1); /* reading never creates one */

  assert_int_equal(KJT(&r, kjt_path(f->dir, "x.db"), "init", "--office", "bad code!"), 2);
  assert_non_null(strstr(r.err, "kinerja: init: bad office code"));
  kjt_run_release(&r);
  assert_int_equal(KJT(&r, kjt_path(f->dir, "y.db"), "init"), 2);
  kjt_run_release(&r);
}

static void t_unknown_command_and_help(void **state) {
  fx *f = *state;
  kjt_run r;
  assert_int_not_equal(KJT(&r, f->db, "snyc"), 0);
  assert_string_equal(r.err, "kinerja: unknown command 'snyc' (did you mean 'sync'?)\n");
  kjt_run_release(&r);
  assert_int_not_equal(KJT(&r, f->db, "lsit", "survey"), 0);
  assert_string_equal(r.err, "kinerja: unknown command 'lsit' (did you mean 'list'?)\n");
  kjt_run_release(&r);
  assert_int_not_equal(KJT(&r, f->db, "frobnicate"), 0);
  assert_null(strstr(r.err, "did you mean"));
  kjt_run_release(&r);

  static const char *const cmds[] = {"init",    "config", "add",    "update",  "delete", "show",
                                     "approve", "reject", "list",   "import",  "export", "status",
                                     "sync",    "report", "backup", "discard", NULL};
  for (int i = 0; cmds[i]; i++) {
    RUN(r, f, 0, cmds[i], "--help");
    char usage[64];
    snprintf(usage, sizeof usage, "usage: kinerja %s", cmds[i]);
    if (!strstr(r.out, usage) || !strstr(r.out, "example:") || !strstr(r.out, "--db PATH"))
      fail_msg("help of '%s' lacks usage, flags or an example:\n%s", cmds[i], r.out);
    kjt_run_release(&r);
  }
  RUN(r, f, 0, "--help");
  assert_non_null(strstr(r.out, "import"));
  kjt_run_release(&r);
  RUN(r, f, 2, "list", "survey", "--bogus");
  assert_non_null(strstr(r.err, "unknown option '--bogus'"));
  kjt_run_release(&r);
  /* a mistyped option says what was meant */
  RUN(r, f, 2, "sync", "--intervl", "5");
  assert_string_equal(r.err,
                      "kinerja: sync: unknown option '--intervl' (did you mean '--interval'?)\n");
  kjt_run_release(&r);
  RUN(r, f, 2, "list", "survey", "--pendng");
  assert_non_null(strstr(r.err, "(did you mean '--pending'?)"));
  kjt_run_release(&r);
  RUN(r, f, 2, "--dbb", "x", "status");
  assert_string_equal(r.err, "kinerja: unknown option '--dbb' (did you mean '--db'?)\n");
  kjt_run_release(&r);
}

/* kinerja backup FILE: a copy with the same records, never over a file. */
static void t_backup(void **state) {
  fx *f = *state;
  kjt_run r;
  RUN(r, f, 0, "add", "complaint", "received=2026-03-02", "channel=telepon",
      "summary=layanan lambat");
  kjt_run_release(&r);
  char copy[600];
  snprintf(copy, sizeof copy, "%s.copy", f->db);
  RUN(r, f, 0, "backup", copy);
  assert_non_null(strstr(r.out, "backed up "));
  kjt_run_release(&r);
  struct stat sb;
  assert_int_equal(stat(copy, &sb), 0);
  if (kjt_posix_modes())
    assert_int_equal(sb.st_mode & 0777, 0600);
  kjt_run a, b;
  assert_int_equal(KJT(&a, f->db, "export", "complaint"), 0);
  assert_int_equal(KJT(&b, copy, "export", "complaint"), 0);
  assert_non_null(strstr(a.out, "layanan"));
  assert_string_equal(a.out, b.out);
  kjt_run_release(&a);
  kjt_run_release(&b);
  RUN(r, f, 1, "backup", copy);
  assert_non_null(strstr(r.err, "already exists"));
  kjt_run_release(&r);
  unlink(copy);
}

static void t_db_from_env(void **state) {
  fx *f = *state;
  /* kjt_kinerja unsets KINERJA_DB in the child: go through sh here */
  char cmd[8192];
  snprintf(cmd, sizeof cmd, "KINERJA_DB='%s' '%s' status --json > '%s'", f->db, KINERJA_BIN,
           kjt_path(f->dir, "st.json"));
  assert_int_equal(system(cmd), 0);
  char *out = kjt_read(kjt_path(f->dir, "st.json"));
  cJSON *o = cJSON_Parse(out);
  assert_non_null(o);
  assert_string_equal(cJSON_GetObjectItem(o, "office")->valuestring, "36.73.04");
  assert_string_equal(cJSON_GetObjectItem(o, "state")->valuestring, "never");
  assert_int_equal(cJSON_GetObjectItem(o, "pending")->valueint, 0);
  assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "last_sync")));
  cJSON_Delete(o);
  free(out);
}

static void t_config(void **state) {
  fx *f = *state;
  kjt_run r;
  RUN(r, f, 0, "config", "set", "server", "https://kinerja.example:8443");
  kjt_run_release(&r);
  RUN(r, f, 0, "config", "get", "server");
  assert_string_equal(r.out, "https://kinerja.example:8443\n");
  kjt_run_release(&r);
  RUN(r, f, 2, "config", "set", "server", "http://plain.example");
  assert_non_null(strstr(r.err, "https://"));
  kjt_run_release(&r);
  /* a URL is no way into the terminal either */
  RUN(r, f, 2, "config", "set", "server", "https://x\x1b[2J");
  assert_non_null(strstr(r.err, "must not contain spaces or control characters"));
  assert_null(strchr(r.err, 0x1b));
  kjt_run_release(&r);
  RUN(r, f, 1, "config", "set", "ca", kjt_path(f->dir, "nope.pem"));
  kjt_run_release(&r);
  RUN(r, f, 2, "config", "set", "colour", "blue");
  kjt_run_release(&r);
  RUN(r, f, 0, "config", "set", "token", "tok-123");
  kjt_run_release(&r);
  RUN(r, f, 0, "status");
  assert_non_null(strstr(r.out, "https://kinerja.example:8443"));
  assert_null(strstr(r.out, "tok-123")); /* status never shows the token */
  kjt_run_release(&r);
}

static void t_add_show_update_delete(void **state) {
  fx *f = *state;
  kjt_run r;
  char *id = add_survey(f, "4");

  RUN(r, f, 0, "show", id, "--json");
  cJSON *o = cJSON_Parse(r.out);
  assert_non_null(o);
  assert_string_equal(cJSON_GetObjectItem(o, "office")->valuestring, "36.73.04");
  assert_string_equal(cJSON_GetObjectItem(o, "u1")->valuestring, "4");
  assert_string_equal(cJSON_GetObjectItem(o, "comment")->valuestring, "ramah");
  assert_string_equal(cJSON_GetObjectItem(o, "sync")->valuestring, "pending");
  cJSON_Delete(o);
  kjt_run_release(&r);

  RUN(r, f, 0, "update", id, "u3=2", "comment=");
  kjt_run_release(&r);
  RUN(r, f, 0, "show", id, "--json");
  o = cJSON_Parse(r.out);
  assert_string_equal(cJSON_GetObjectItem(o, "u3")->valuestring, "2");
  assert_null(cJSON_GetObjectItem(o, "comment"));
  cJSON_Delete(o);
  kjt_run_release(&r);

  /* a required field cannot be cleared, a value must be valid */
  RUN(r, f, 1, "update", id, "service=");
  assert_non_null(strstr(r.err, "field 'service'"));
  kjt_run_release(&r);
  RUN(r, f, 1, "update", id, "u3=5");
  assert_non_null(strstr(r.err, "field 'u3': must be an integer from 1 to 4"));
  kjt_run_release(&r);
  RUN(r, f, 2, "update", id, "colour=red");
  assert_non_null(strstr(r.err, "unknown field 'colour'"));
  kjt_run_release(&r);

  RUN(r, f, 0, "list", "surveys", "--json");
  o = cJSON_Parse(r.out);
  assert_int_equal(cJSON_GetArraySize(o), 1);
  cJSON_Delete(o);
  kjt_run_release(&r);

  RUN(r, f, 0, "delete", id);
  kjt_run_release(&r);
  RUN(r, f, 1, "show", id);
  assert_non_null(strstr(r.err, "deleted"));
  kjt_run_release(&r);
  RUN(r, f, 1, "update", id, "u3=1");
  kjt_run_release(&r);
  RUN(r, f, 0, "list", "survey");
  assert_string_equal(r.out, "");
  kjt_run_release(&r);
  RUN(r, f, 0, "export", "survey");
  assert_string_equal(r.out, SURVEY_HEADER);
  kjt_run_release(&r);
  RUN(r, f, 1, "delete", "01900000-0000-7000-8000-000000000000");
  assert_non_null(strstr(r.err, "no record"));
  kjt_run_release(&r);
  free(id);
}

static void t_add_invalid_stores_nothing(void **state) {
  fx *f = *state;
  kjt_run r;
  RUN(r, f, 1, "add", "survey", "date=2026-02-30", "service=KTP-el", "u1=5", "u2=3", "u3=4", "u4=4",
      "u5=3", "u6=4", "u7=4", "u8=3", "u9=4");
  assert_non_null(strstr(r.err, "field 'u1': must be an integer from 1 to 4"));
  assert_non_null(strstr(r.err, "field 'date'"));
  assert_string_equal(r.out, "");
  kjt_run_release(&r);
  RUN(r, f, 2, "add", "sruvey", "u1=1");
  assert_non_null(strstr(r.err, "unknown record type 'sruvey'"));
  kjt_run_release(&r);
  RUN(r, f, 2, "add", "office", "name=x");
  assert_non_null(strstr(r.err, "master data"));
  kjt_run_release(&r);
  assert_int_equal(count_live(f, KJ_T_SURVEY), 0);
  assert_int_equal(count_pending(f), 0);

  /* id= given: used; given twice: refused */
  const char *uid = "01900000-0000-7000-8000-0000000000aa";
  char ida[64];
  snprintf(ida, sizeof ida, "id=%s", uid);
  RUN(r, f, 0, "add", "complaint", ida, "received=2026-03-01", "resolved=2026-03-04",
      "channel=telepon", "summary=jalan rusak");
  assert_string_equal(r.out, "01900000-0000-7000-8000-0000000000aa\n");
  kjt_run_release(&r);
  RUN(r, f, 1, "add", "complaint", ida, "received=2026-03-01");
  assert_non_null(strstr(r.err, "already exists"));
  kjt_run_release(&r);
  /* the rule across fields: resolved not before received */
  RUN(r, f, 1, "add", "complaint", "received=2026-03-05", "resolved=2026-03-04");
  assert_non_null(strstr(r.err, "resolved"));
  kjt_run_release(&r);
}

static void t_each_type_add(void **state) {
  fx *f = *state;
  kjt_run r;
  RUN(r, f, 0, "add", "activity", "nip=198001012005011001", "date=2026-03-02", "indicator=DOC",
      "quantity=2.5", "minutes=90", "description=rekam KTP");
  kjt_run_release(&r);
  /* a rating is written by its rater, signed in (test_person.c) */
  RUN(r, f, 2, "add", "rating", "period=2026-Q1", "rater=198001012005011001",
      "ratee=198502022010012002", "role=atasan", "s1=4", "s2=4", "s3=5", "s4=3", "s5=4", "s6=4",
      "s7=5");
  assert_non_null(strstr(r.err, "add rating: --as NIP is required"));
  kjt_run_release(&r);
  RUN(r, f, 0, "add", "targets", "nip=198502022010012002", "indicator=DOC", "period=2026",
      "target=100");
  kjt_run_release(&r);
  RUN(r, f, 1, "add", "activity", "nip=198001012005011001", "date=2026-03-02", "indicator=DOC",
      "quantity=-1", "minutes=2000");
  assert_non_null(strstr(r.err, "field 'quantity'"));
  assert_non_null(strstr(r.err, "field 'minutes'"));
  kjt_run_release(&r);
  RUN(r, f, 1, "add", "target", "nip=198502022010012002", "indicator=DOC", "period=2026",
      "target=0");
  assert_non_null(strstr(r.err, "field 'target'"));
  kjt_run_release(&r);
  assert_int_equal(count_live(f, KJ_T_ACTIVITY), 1);
  assert_int_equal(count_live(f, KJ_T_RATING), 0);
  assert_int_equal(count_live(f, KJ_T_TARGET), 1);
}

/* approve/reject sign the approver in (the PIN flow is test_person.c,
 * with a server); here: what is refused before anything is written. */
static void t_approve_reject(void **state) {
  fx *f = *state;
  kjt_run r;
  RUN(r, f, 0, "add", "activity", "nip=198001012005011001", "date=2026-03-02", "indicator=DOC",
      "quantity=3");
  char *id = strdup(chomp(r.out));
  kjt_run_release(&r);
  RUN(r, f, 2, "approve", id, "--by", NIP2);
  assert_non_null(strstr(r.err, "--by is gone: use --as NIP"));
  kjt_run_release(&r);
  RUN(r, f, 2, "approve", id);
  assert_non_null(strstr(r.err, "expected ID... --as NIP"));
  kjt_run_release(&r);
  RUN(r, f, 2, "approve", id, "--as", "12345");
  assert_non_null(strstr(r.err, "'12345' is not a NIP"));
  kjt_run_release(&r);
  RUN(r, f, 2, "approve", id, "--as", NIP2, "--reason", "x");
  assert_non_null(strstr(r.err, "unknown option '--reason'"));
  kjt_run_release(&r);
  /* a rejection says why (as the office app's Persetujuan): no reason, or
   * an empty one, is refused before anyone signs in */
  RUN(r, f, 2, "reject", id, "--as", NIP2);
  assert_non_null(strstr(r.err, "reject: --reason TEXT is required"));
  kjt_run_release(&r);
  RUN(r, f, 2, "reject", id, "--as", NIP2, "--reason", "");
  assert_non_null(strstr(r.err, "reject: --reason TEXT is required"));
  kjt_run_release(&r);
  RUN(r, f, 0, "reject", "--help");
  assert_non_null(strstr(r.out, "--as NIP --reason TEXT"));
  kjt_run_release(&r);
  setenv("KINERJA_PIN", "123456", 1);
  RUN(r, f, 1, "reject", id, "--as", NIP2, "--reason", "kurang bukti");
  unsetenv("KINERJA_PIN");
  assert_non_null(strstr(r.err, NIP2 " is not on the roster of office '36.73.04'"));
  kjt_run_release(&r);
  kjc_store *s = open_store(f);
  kj_rstate st;
  kj_err err;
  assert_int_equal(kjc_record_get(s, KJ_T_NONE, id, &st, &err), KJ_OK);
  assert_null(kj_record_get(&st.rec, "status"));
  assert_null(kj_record_get(&st.rec, "reviewed_by"));
  kj_rstate_release(&st);
  kjc_store_close(s);
  free(id);
}

/* ---- outbox ---- */

static void t_outbox_after_add_update_delete(void **state) {
  fx *f = *state;
  kjt_run r;
  char *id = add_survey(f, "2");
  RUN(r, f, 0, "update", id, "u1=3", "sex=");
  kjt_run_release(&r);
  RUN(r, f, 0, "delete", id);
  kjt_run_release(&r);

  kjc_store *s = open_store(f);
  kj_change ch[8];
  int n = 0;
  kj_err err;
  assert_int_equal(kjc_outbox_batch(s, 8, ch, &n, &err), KJ_OK);
  assert_int_equal(n, 3);
  const kj_type_def *t = kj_type(KJ_T_SURVEY);
  int u1 = kj_field_index(t, "u1"), sex = kj_field_index(t, "sex"),
      office = kj_field_index(t, "office");
  /* add: every given field and the default office, no absent field */
  assert_string_equal(ch[0].rec.id, id);
  assert_int_equal(ch[0].rec.type, KJ_T_SURVEY);
  assert_false(ch[0].rec.deleted);
  assert_true(ch[0].mask & (1u << u1));
  assert_true(ch[0].mask & (1u << office));
  assert_string_equal(ch[0].rec.v[office], "36.73.04");
  assert_false(ch[0].mask & (1u << kj_field_index(t, "age")));
  assert_string_equal(ch[0].rec.v[u1], "2");
  /* update: exactly the two fields, one cleared */
  assert_int_equal(ch[1].mask, (1u << u1) | (1u << sex));
  assert_string_equal(ch[1].rec.v[u1], "3");
  assert_null(ch[1].rec.v[sex]);
  /* delete */
  assert_true(ch[2].rec.deleted);
  assert_int_equal(ch[2].mask, 0);
  /* stamps increase, seqs increase, the device is this database's */
  assert_true(ch[0].hlc < ch[1].hlc && ch[1].hlc < ch[2].hlc);
  assert_true(ch[0].seq < ch[1].seq && ch[1].seq < ch[2].seq);
  assert_string_equal(ch[0].device, kjc_store_device(s));

  /* the state carries the per-field stamps of those changes */
  kj_rstate st;
  assert_int_equal(kjc_record_get(s, KJ_T_SURVEY, id, &st, &err), KJ_OK);
  assert_true(st.rec.deleted);
  assert_int_equal(st.st[u1].hlc, ch[1].hlc);
  assert_int_equal(st.st[sex].hlc, ch[1].hlc);
  assert_int_equal(st.st[office].hlc, ch[0].hlc);
  assert_int_equal(st.del.hlc, ch[2].hlc);
  kj_rstate_release(&st);

  /* ack removes them */
  int64_t seqs[3] = {ch[0].seq, ch[1].seq, ch[2].seq};
  for (int i = 0; i < n; i++)
    kj_change_release(&ch[i]);
  assert_int_equal(kjc_outbox_ack(s, seqs, 3, &err), KJ_OK);
  kjc_outbox_stats stats;
  assert_int_equal(kjc_outbox_stats_get(s, &stats, &err), KJ_OK);
  assert_int_equal(stats.pending, 0);
  kjc_store_close(s);
  free(id);
}

static void t_rejected_listed_and_requeued(void **state) {
  fx *f = *state;
  kjt_run r;
  char *id = add_survey(f, "4");
  char *other = add_survey(f, "3");
  kjc_store *s = open_store(f);
  kj_change ch[4];
  int n = 0;
  kj_err err;
  assert_int_equal(kjc_outbox_batch(s, 4, ch, &n, &err), KJ_OK);
  assert_int_equal(n, 2);
  assert_int_equal(kjc_outbox_reject(s, ch[0].seq, "office '36.73.04' is not yours", &err), KJ_OK);
  for (int i = 0; i < n; i++)
    kj_change_release(&ch[i]);
  kjc_store_close(s);

  RUN(r, f, 0, "list", "survey", "--rejected");
  assert_non_null(strstr(r.out, id));
  assert_non_null(strstr(r.out, "office '36.73.04' is not yours"));
  assert_null(strstr(r.out, other));
  kjt_run_release(&r);
  RUN(r, f, 0, "list", "--rejected", "--json");
  cJSON *o = cJSON_Parse(r.out);
  assert_int_equal(cJSON_GetArraySize(o), 1);
  assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(o, 0), "reason")->valuestring,
                      "office '36.73.04' is not yours");
  cJSON_Delete(o);
  kjt_run_release(&r);
  RUN(r, f, 0, "status", "--json");
  o = cJSON_Parse(r.out);
  assert_int_equal(cJSON_GetObjectItem(o, "rejected")->valueint, 1);
  assert_int_equal(cJSON_GetObjectItem(o, "pending")->valueint, 1);
  cJSON_Delete(o);
  kjt_run_release(&r);

  /* update queues it again, in full */
  RUN(r, f, 0, "update", id, "u9=1");
  kjt_run_release(&r);
  s = open_store(f);
  assert_int_equal(kjc_outbox_batch(s, 4, ch, &n, &err), KJ_OK);
  assert_int_equal(n, 2);
  assert_string_equal(ch[1].rec.id, id);
  const kj_type_def *t = kj_type(KJ_T_SURVEY);
  assert_true(ch[1].mask & (1u << kj_field_index(t, "service")));
  assert_string_equal(ch[1].rec.v[kj_field_index(t, "u9")], "1");
  assert_string_equal(ch[1].rec.v[kj_field_index(t, "u1")], "4");
  for (int i = 0; i < n; i++)
    kj_change_release(&ch[i]);
  kjc_outbox_stats stats;
  assert_int_equal(kjc_outbox_stats_get(s, &stats, &err), KJ_OK);
  assert_int_equal(stats.rejected, 0);
  assert_int_equal(stats.pending, 2);
  kjc_store_close(s);
  free(id);
  free(other);
}

/* A record as the server sends it (wire JSON of a state), stored as a
 * pull stores it. */
static void put_remote(fx *f, const char *json) {
  kjc_store *s = open_store(f);
  cJSON *o = cJSON_Parse(json);
  assert_non_null(o);
  kj_rstate rs;
  kj_err err;
  kj_err_clear(&err);
  if (kj_rstate_from_json(o, &rs, &err))
    fail_msg("state: %s", err.msg);
  cJSON_Delete(o);
  assert_int_equal(kjc_store_adopt_remote(s, &rs, NULL, &err), KJ_OK);
  kj_rstate_release(&rs);
  kjc_store_close(s);
}

/* Every pending change, as the server would answer it: rejected with
 * reason (NULL: acknowledged). */
static void answer_all(fx *f, const char *reason) {
  kjc_store *s = open_store(f);
  kj_change ch[16];
  int n = 0;
  kj_err err;
  kj_err_clear(&err);
  assert_int_equal(kjc_outbox_batch(s, 16, ch, &n, &err), KJ_OK);
  for (int i = 0; i < n; i++) {
    if (reason)
      assert_int_equal(kjc_outbox_reject(s, ch[i].seq, reason, &err), KJ_OK);
    else
      assert_int_equal(kjc_outbox_ack(s, &ch[i].seq, 1, &err), KJ_OK);
    kj_change_release(&ch[i]);
  }
  kjc_store_close(s);
}

static int json_int(const char *text, const char *key) {
  cJSON *o = cJSON_Parse(text);
  assert_non_null(o);
  int v = key ? cJSON_GetObjectItem(o, key)->valueint : cJSON_GetArraySize(o);
  cJSON_Delete(o);
  return v;
}

static int count_lines(const char *t) {
  int n = 0;
  for (; *t; t++)
    n += *t == '\n';
  return n;
}

/* Issue 16: status counts exactly the records list --rejected shows (a
 * record with several rejected rows, a deleted one, one a moved notice
 * dropped), and discard ends each: back to the server's version, away when
 * the server never had it, nothing when there is nothing to drop. */
static void t_discard_and_rejected_counts(void **state) {
  fx *f = *state;
  kjt_run r;
  char *fresh = add_survey(f, "4");
  RUN(r, f, 0, "discard", fresh);
  assert_non_null(strstr(r.out, " (survey): 1 waiting change dropped, removed: the server never "
                                "had it\n"));
  kjt_run_release(&r);
  RUN(r, f, 1, "show", fresh);
  kjt_run_release(&r);

  char *kept = add_survey(f, "4"); /* the server takes it */
  answer_all(f, NULL);
  RUN(r, f, 0, "discard", kept);
  assert_non_null(strstr(r.out, "no local changes, nothing discarded"));
  kjt_run_release(&r);
  RUN(r, f, 0, "update", kept, "u1=1");
  kjt_run_release(&r);
  RUN(r, f, 0, "update", kept, "u2=1");
  kjt_run_release(&r);
  char *gone = add_survey(f, "2");
  RUN(r, f, 0, "delete", gone);
  kjt_run_release(&r);
  char *moved = add_survey(f, "3");
  answer_all(f, "forbidden office");
  kjc_store *s = open_store(f);
  int dropped = 0;
  kj_err err;
  assert_int_equal(kjc_store_forget(s, KJ_T_SURVEY, moved, &dropped, &err), KJ_OK);
  assert_int_equal(dropped, 1);
  kjc_store_close(s);

  /* 5 rejected rows of 3 records: both say 3 */
  RUN(r, f, 0, "status", "--json");
  assert_int_equal(json_int(r.out, "rejected"), 3);
  kjt_run_release(&r);
  RUN(r, f, 0, "list", "--rejected", "--json");
  assert_int_equal(json_int(r.out, NULL), 3);
  kjt_run_release(&r);
  RUN(r, f, 0, "list", "--rejected");
  assert_int_equal(count_lines(r.out), 3);
  assert_non_null(strstr(r.out, "[deleted] [rejected: forbidden office]"));
  assert_non_null(strstr(r.out, " (survey, no longer at this office) [rejected: forbidden "
                                "office]"));
  kjt_run_release(&r);
  RUN(r, f, 0, "status");
  assert_non_null(strstr(r.out, "rejected:      3 records\n"));
  assert_non_null(strstr(r.out, "'kinerja discard ID'"));
  kjt_run_release(&r);

  RUN(r, f, 0, "discard", kept, gone, moved);
  assert_non_null(strstr(r.out, " (survey): 2 rejected changes dropped, back to the server's "
                                "version\n"));
  assert_non_null(strstr(r.out, " (survey): 2 rejected changes dropped, removed: the server "
                                "never had it\n"));
  assert_non_null(strstr(r.out, " (survey): 1 rejected change dropped (the record is no longer "
                                "at this office)\n"));
  kjt_run_release(&r);
  RUN(r, f, 0, "show", kept, "--json");
  assert_non_null(strstr(r.out, "\"u1\":\t\"4\""));
  assert_non_null(strstr(r.out, "\"u2\":\t\"3\""));
  kjt_run_release(&r);
  RUN(r, f, 1, "show", gone);
  kjt_run_release(&r);
  RUN(r, f, 0, "status", "--json");
  assert_int_equal(json_int(r.out, "rejected"), 0);
  assert_int_equal(json_int(r.out, "pending"), 0);
  kjt_run_release(&r);
  RUN(r, f, 0, "list", "--rejected", "--json");
  assert_int_equal(json_int(r.out, NULL), 0);
  kjt_run_release(&r);
  /* an unknown id is an error, the others are done */
  char *more = add_survey(f, "1");
  RUN(r, f, 1, "discard", "01900000-0000-7000-8000-00000000dead", more);
  assert_non_null(strstr(r.err, "no record '01900000-0000-7000-8000-00000000dead' at this office"));
  assert_non_null(strstr(r.out, "removed: the server never had it"));
  kjt_run_release(&r);
  RUN(r, f, 2, "discard");
  kjt_run_release(&r);
  free(fresh);
  free(kept);
  free(gone);
  free(moved);
  free(more);
}

/* A database of the previous schema did not keep the server's version of
 * waiting records: discard removes the record and has the next sync read
 * everything again, its own records too. */
static void t_discard_unknown_base(void **state) {
  fx *f = *state;
  kjt_run r;
  char *id = add_survey(f, "4");
  answer_all(f, NULL);
  RUN(r, f, 0, "update", id, "u1=2");
  kjt_run_release(&r);
  sqlite3 *db;
  assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
  assert_int_equal(sqlite3_exec(db, "UPDATE records SET base = NULL", NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(db);
  RUN(r, f, 0, "discard", id);
  assert_non_null(strstr(r.out, "the next 'kinerja sync' reads the server's version again"));
  kjt_run_release(&r);
  kjc_store *s = open_store(f);
  char *cur = NULL, *full = NULL;
  kj_err err;
  assert_int_equal(kjc_meta_get(s, KJC_META_PULL_CURSOR, &cur, &err), KJ_OK);
  assert_int_equal(kjc_meta_get(s, KJC_META_PULL_FULL, &full, &err), KJ_OK);
  assert_string_equal(cur, "0");
  assert_string_equal(full, "1");
  free(cur);
  free(full);
  kjc_store_close(s);
  free(id);
}

#define OTHER_OFFICE_SURVEY                                                                        \
  "{\"id\":\"01900000-0000-7000-8000-0000000000f1\",\"type\":\"survey\",\"del\":false,"            \
  "\"f\":{\"office\":\"36.73.01\",\"date\":\"2026-03-02\",\"service\":\"KTP-el\",\"u1\":\"4\","    \
  "\"u2\":\"4\",\"u3\":\"4\",\"u4\":\"4\",\"u5\":\"4\",\"u6\":\"4\",\"u7\":\"4\",\"u8\":\"4\","    \
  "\"u9\":\"4\"},\"t\":{\"office\":\"5000/server\",\"date\":\"5000/server\","                      \
  "\"service\":\"5000/server\",\"u1\":\"5000/server\",\"u2\":\"5000/server\","                     \
  "\"u3\":\"5000/server\",\"u4\":\"5000/server\",\"u5\":\"5000/server\",\"u6\":\"5000/server\","   \
  "\"u7\":\"5000/server\",\"u8\":\"5000/server\",\"u9\":\"5000/server\"}}"

/* Issue 16: no local step turns a record of another office into one of
 * this office (domain.md: a record's office never changes at an office
 * PC), nor writes one. */
static void t_other_office_never_ours(void **state) {
  fx *f = *state;
  kjt_run r;
  RUN(r, f, 1, "add", "survey", "office=36.73.01", "date=2026-03-02", "service=KTP-el", "u1=4",
      "u2=3", "u3=4", "u4=4", "u5=3", "u6=4", "u7=4", "u8=3", "u9=4");
  assert_non_null(strstr(r.err, "field 'office': '36.73.01' is another office, this PC is office "
                                "'36.73.04' (only the BKD moves a record)"));
  kjt_run_release(&r);
  char *id = add_survey(f, "4");
  RUN(r, f, 1, "update", id, "office=36.73.01");
  assert_non_null(strstr(r.err, "only the BKD moves a record"));
  kjt_run_release(&r);

  /* a record of another office held here (an older kinerja kept one) */
  put_remote(f, OTHER_OFFICE_SURVEY);
  const char *x = "01900000-0000-7000-8000-0000000000f1";
  RUN(r, f, 1, "update", x, "office=36.73.04");
  assert_non_null(strstr(r.err, "the record is office '36.73.01', this PC is office '36.73.04'"));
  kjt_run_release(&r);
  RUN(r, f, 1, "update", x, "u1=1");
  kjt_run_release(&r);
  RUN(r, f, 1, "delete", x);
  kjt_run_release(&r);
  char *csv = strdup(kjt_path(f->dir, "other.csv"));
  kjt_write(csv, SURVEY_HEADER "01900000-0000-7000-8000-0000000000f1,,2026-03-02,KTP-el,1,1,1,1,1,"
                               "1,1,1,1,,,,,\n"
                               "01900000-0000-7000-8000-0000000000f1,36.73.04,2026-03-02,KTP-el,1,"
                               "1,1,1,1,1,1,1,1,,,,,\n");
  RUN(r, f, 1, "import", "survey", csv);
  assert_non_null(strstr(r.out, "0 new, 0 updated, 0 unchanged, 2 bad"));
  kjt_run_release(&r);
  RUN(r, f, 0, "export", "survey", "--format", "json");
  assert_non_null(strstr(r.out, "\"office\":\"36.73.01\""));
  kjt_run_release(&r);
  assert_int_equal(count_pending(f), 1);

  /* a pulled state of another office is not kept */
  kjc_store *s = open_store(f);
  char page[4096];
  snprintf(page, sizeof page,
           "{\"changes\":[%s],\"next\":\"9\",\"more\":false,\"server_time\":1772500000500}",
           OTHER_OFFICE_SURVEY);
  int more = 1;
  long pulled = -1;
  kj_err err;
  kj_err_clear(&err);
  assert_int_equal(kjc_sync__apply_page(s, page, strlen(page), &more, &pulled, &err), KJ_OK);
  assert_int_equal(pulled, 0);
  int exists = 1;
  assert_int_equal(kjc_record_exists(s, KJ_T_SURVEY, x, &exists), KJ_OK);
  assert_int_equal(exists, 0);
  kjc_store_close(s);
  free(csv);
  free(id);
}

#define SERVICE_STATE(id, office, name)                                                            \
  "{\"id\":\"" id "\",\"type\":\"service\",\"del\":false,\"f\":{\"office\":\"" office              \
  "\",\"name\":\"" name "\"},\"t\":{\"office\":\"5000/server\",\"name\":\"5000/server\"}}"

/* Issue 16: a survey's service as the office lists it (domain.md service
 * master data): case, spaces and punctuation fixed; an unknown one kept
 * with a warning naming the closest listed one. */
static void t_service_matched(void **state) {
  fx *f = *state;
  kjt_run r;
  put_remote(f, SERVICE_STATE("01900000-0000-8000-8000-000000000a01", "36.73.04", "KTP-el"));
  put_remote(f,
             SERVICE_STATE("01900000-0000-8000-8000-000000000a02", "36.73.04", "Akta Kelahiran"));
  put_remote(f, SERVICE_STATE("01900000-0000-8000-8000-000000000a03", "36.73.01", "Surat Pindah"));
  put_remote(f,
             SERVICE_STATE("01900000-0000-8000-8000-000000000a00", "36.73.04", "Kartu Keluarga"));
  /* listed by name (byte order), not in id or arrival order */
  RUN(r, f, 0, "list", "service");
  const char *akta = strstr(r.out, "name=\"Akta Kelahiran\""), *ktp = strstr(r.out, "name=KTP-el"),
             *kk = strstr(r.out, "name=\"Kartu Keluarga\"");
  assert_true(akta && ktp && kk && akta < ktp && ktp < kk);
  assert_int_equal(kjt_lines(r.out), 4);
  kjt_run_release(&r);
  RUN(r, f, 0, "add", "survey", "date=2026-03-02", "service= ktp  EL.", "u1=4", "u2=3", "u3=4",
      "u4=4", "u5=3", "u6=4", "u7=4", "u8=3", "u9=4");
  char *a = strdup(chomp(r.out));
  assert_string_equal(r.err, "");
  kjt_run_release(&r);
  RUN(r, f, 0, "show", a, "--json");
  assert_non_null(strstr(r.out, "\"service\":\t\"KTP-el\""));
  kjt_run_release(&r);
  RUN(r, f, 0, "add", "survey", "date=2026-03-02", "service=Akta Kelahran", "u1=4", "u2=3", "u3=4",
      "u4=4", "u5=3", "u6=4", "u7=4", "u8=3", "u9=4");
  char *b = strdup(chomp(r.out));
  assert_non_null(strstr(r.err, "field 'service': 'Akta Kelahran' is not a service of office "
                                "'36.73.04' (closest: 'Akta Kelahiran'); stored as typed"));
  kjt_run_release(&r);
  RUN(r, f, 0, "show", b, "--json");
  assert_non_null(strstr(r.out, "\"service\":\t\"Akta Kelahran\""));
  kjt_run_release(&r);
  RUN(r, f, 0, "update", b, "service=AKTA-KELAHIRAN");
  kjt_run_release(&r);
  RUN(r, f, 0, "show", b, "--json");
  assert_non_null(strstr(r.out, "\"service\":\t\"Akta Kelahiran\""));
  kjt_run_release(&r);
  char *csv = strdup(kjt_path(f->dir, "svc.csv"));
  kjt_write(csv, SURVEY_HEADER ",,2026-03-01,ktp el,4,4,4,4,4,4,4,4,4,,,,,\n"
                               ",,2026-03-01,Surat Pindah,4,4,4,4,4,4,4,4,4,,,,,\n");
  RUN(r, f, 0, "import", "survey", csv);
  /* nothing of this office is near "Surat Pindah": its services, no guess */
  assert_non_null(strstr(
      r.err, ":3: warning: field 'service': 'Surat Pindah' is not a service of "
             "office '36.73.04' (its services: 'Akta Kelahiran', 'KTP-el', 'Kartu Keluarga'); "
             "stored as typed"));
  assert_null(strstr(r.err, "closest"));
  kjt_run_release(&r);
  /* the trial's "Paspor" (6 edits from "KTP-el"): no "closest: 'KTP-el'" */
  RUN(r, f, 0, "add", "survey", "date=2026-03-02", "service=Paspor", "u1=4", "u2=3", "u3=4", "u4=4",
      "u5=3", "u6=4", "u7=4", "u8=3", "u9=4");
  assert_non_null(strstr(
      r.err, "field 'service': 'Paspor' is not a service of office '36.73.04' "
             "(its services: 'Akta Kelahiran', 'KTP-el', 'Kartu Keluarga'); stored as typed"));
  assert_null(strstr(r.err, "closest"));
  kjt_run_release(&r);
  RUN(r, f, 0, "export", "survey");
  assert_non_null(strstr(r.out, ",2026-03-01,KTP-el,"));
  assert_non_null(strstr(r.out, ",2026-03-01,Surat Pindah,"));
  assert_null(strstr(r.out, "ktp el"));
  kjt_run_release(&r);
  free(csv);
  free(a);
  free(b);
}

/* Issue 16: times shown to a person are in the office's time zone. */
static void t_status_time_zone(void **state) {
  fx *f = *state;
  kjt_run r;
  kjc_store *s = open_store(f);
  kj_err err;
  assert_int_equal(kjc_meta_set_i64(s, KJC_META_LAST_SYNC, 1796018709123, &err), KJ_OK);
  kjc_store_close(s);
  RUN(r, f, 0, "status");
  assert_non_null(strstr(r.out, "last sync:     2026-11-30 13:05:09 WIB\n")); /* the default */
  assert_non_null(strstr(r.out, "last pull:     never\n"));
  kjt_run_release(&r);
  put_remote(f, "{\"id\":\"36.73.04\",\"type\":\"office\",\"del\":false,\"f\":{\"name\":\"Kec\","
                "\"timezone\":\"Asia/Makassar\"},\"t\":{\"name\":\"5000/server\","
                "\"timezone\":\"5000/server\"}}");
  RUN(r, f, 0, "status");
  assert_non_null(strstr(r.out, "last sync:     2026-11-30 14:05:09 WITA\n"));
  kjt_run_release(&r);
  RUN(r, f, 0, "status", "--json"); /* machines get UTC */
  assert_non_null(strstr(r.out, "\"last_sync\":\t\"2026-11-30T06:05:09Z\""));
  kjt_run_release(&r);
  /* the import's "imported before" too, whatever TZ says */
  const char *csv = kjt_path(f->dir, "tz.csv");
  kjt_write(csv, SURVEY_HEADER ",,2026-03-01,KTP-el,4,4,4,4,4,4,4,4,4,,,,,\n");
  RUN(r, f, 0, "import", "survey", csv);
  kjt_run_release(&r);
  setenv("TZ", "UTC", 1);
  RUN(r, f, 0, "import", "survey", csv);
  unsetenv("TZ");
  assert_non_null(strstr(r.err, " WITA from '"));
  kjt_run_release(&r);
}

static void t_master_data_warning(void **state) {
  fx *f = *state;
  kjt_run r;
  /* no roster yet: no warning */
  RUN(r, f, 0, "add", "activity", "nip=198001012005011001", "date=2026-03-02", "indicator=DOC",
      "quantity=1");
  assert_null(strstr(r.err, "warning"));
  kjt_run_release(&r);

  /* master data as pulled from the server */
  kjc_store *s = open_store(f);
  kj_err err;
  const char *const vals[][2] = {{"name", "Siti"}, {"office", "36.73.04"}, {"position", "Staf"}};
  kjt_pulled(s, KJ_T_EMPLOYEE, NIP2, vals, 3);
  kjc_outbox_stats stats;
  assert_int_equal(kjc_outbox_stats_get(s, &stats, &err), KJ_OK);
  assert_int_equal(stats.pending, 1); /* a pulled record makes no outbox row */
  kjc_store_close(s);

  /* with the roster, a nip that is not on it is refused (domain.md "Who
   * may write what"): one message, no warning about the same nip first */
  RUN(r, f, 1, "add", "activity", "nip=198001012005011001", "date=2026-03-02", "indicator=DOC",
      "quantity=1");
  assert_null(strstr(r.err, "warning"));
  /* the record by its type: the id add made for it was never stored */
  assert_string_equal(r.err,
                      "kinerja: activity: nip " NIP1 " is not on the roster (no such employee)\n");
  kjt_run_release(&r);
  RUN(r, f, 0, "add", "activity", "nip=198502022010012002", "date=2026-03-02", "indicator=DOC",
      "quantity=1");
  assert_string_equal(r.err, "");
  kjt_run_release(&r);
  assert_int_equal(count_live(f, KJ_T_ACTIVITY), 2);
  /* and per line in an import */
  const char *csv = kjt_path(f->dir, "act.csv");
  kjt_write(csv, "id,office,nip,date,indicator,quantity,minutes,description,evidence,status,"
                 "reviewed_by\n"
                 ",,198502022010012002,2026-03-03,DOC,1,,,,,\n"
                 ",,198001012005011001,2026-03-03,DOC,1,,,,,\n");
  RUN(r, f, 1, "import", "activity", csv);
  /* the row and the field, once: the id the import made for it is no name */
  char want[4200];
  snprintf(want, sizeof want, "%s:3: nip " NIP1 " is not on the roster (no such employee)\n", csv);
  assert_non_null(strstr(r.err, want));
  /* no warning about the NIP besides: it is named once (the one warning is
   * the hint to import only the fixed row) */
  assert_null(strstr(strstr(r.err, NIP1) + 1, NIP1));
  assert_non_null(strstr(r.err, "kinerja: warning: fix the 1 bad row and import only them"));
  assert_null(strstr(r.err, ":3: activity "));
  kjt_run_release(&r);
  assert_int_equal(count_live(f, KJ_T_ACTIVITY), 3);
  RUN(r, f, 0, "list", "employee");
  assert_non_null(strstr(r.out, NIP2));
  kjt_run_release(&r);
}

/* ---- who may write what (domain.md, issue 16) ---- */

#define R_HEAD "197001012000011001"  /* 36.73.04, no supervisor */
#define R_SUP "198001012005011002"   /* 36.73.04, under R_HEAD */
#define R_STAFF "199001012015011003" /* 36.73.04, under R_SUP */
#define R_PEER "199202022016012004"  /* 36.73.04, under R_SUP */
#define R_OTHER "198503032010011005" /* 36.73.05 */

/* An employee as pulled from the server. */
static void pulled_employee(kjc_store *s, const char *nip, const char *office, const char *sup) {
  /* the people of the rules' messages (R_*): named as a roster names them */
  const char *name = !strcmp(nip, R_SUP)     ? "Budi Santoso"
                     : !strcmp(nip, R_STAFF) ? "Siti Aminah"
                     : !strcmp(nip, R_PEER)  ? "Rina Wati"
                     : !strcmp(nip, R_OTHER) ? "Joko Susilo"
                                             : "Hasan Basri";
  const char *const vals[][2] = {{"name", name}, {"office", office}, {"supervisor", sup}};
  kjt_pulled(s, KJ_T_EMPLOYEE, nip, vals, 3);
}

/* An activation of nip pulled from the server (code "ABCD-EFGH-JKMN"),
 * then `person setup` with PIN 123456: nip can sign in with --as. */
static void pulled_person(fx *f, const char *nip, const char *office) {
  kjc_store *s = open_store(f);
  kj_err err;
  char hash[KJ_PASSHASH_MAX], expires[32];
  assert_int_equal(kj_pass_hash("ABCDEFGHJKMN", hash, sizeof hash, &err), KJ_OK);
  snprintf(expires, sizeof expires, "%lld", (long long)(time(NULL) + 86400) * 1000);
  char id[KJ_ID_MAX + 1];
  assert_int_equal(kj_activation_id(nip, id), KJ_OK);
  const char *const vals[][2] = {
      {"office", office}, {"nip", nip}, {"code_hash", hash}, {"expires", expires}};
  kjt_pulled(s, KJ_T_ACTIVATION, id, vals, 4);
  kjc_store_close(s);
  kjt_run r;
  RUN(r, f, 0, "person", "setup", nip, "--code", "ABCD-EFGH-JKMN");
  kjt_run_release(&r);
}

static char *show_field(fx *f, const char *id, const char *field) {
  kjt_run r;
  RUN(r, f, 0, "show", id, "--json");
  cJSON *o = cJSON_Parse(r.out);
  const cJSON *v = cJSON_GetObjectItem(o, field);
  char *out = cJSON_IsString(v) ? strdup(v->valuestring) : NULL;
  cJSON_Delete(o);
  kjt_run_release(&r);
  return out;
}

/* With the roster pulled, kinerja refuses before storing what the server
 * would refuse, and sends an edited decision for review again itself. */
static void t_rules(void **state) {
  fx *f = *state;
  kjt_run r;
  kjc_store *s = open_store(f);
  pulled_employee(s, R_HEAD, "36.73.04", NULL);
  pulled_employee(s, R_SUP, "36.73.04", R_HEAD);
  pulled_employee(s, R_STAFF, "36.73.04", R_SUP);
  pulled_employee(s, R_PEER, "36.73.04", R_SUP);
  pulled_employee(s, R_OTHER, "36.73.05", NULL);
  kjc_store_close(s);
  setenv("KINERJA_PIN", "123456", 1);
  pulled_person(f, R_SUP, "36.73.04");
  pulled_person(f, R_STAFF, "36.73.04");
  pulled_person(f, R_PEER, "36.73.04");
  /* no activation for the head yet: said before a code or PIN is asked */
  RUN(r, f, 1, "person", "setup", R_HEAD);
  assert_non_null(strstr(r.err, "no activation code for " R_HEAD " has reached this PC"));
  assert_null(strstr(r.out, "activation code:"));
  kjt_run_release(&r);

  /* issue 16: this office's PC names another office's staff */
  RUN(r, f, 1, "add", "target", ("nip=" R_OTHER), "indicator=DOC", "period=2026", "target=1000000");
  assert_non_null(strstr(r.err, "kinerja: target: nip Joko Susilo (" R_OTHER
                                ") is not on the roster of office "
                                "'36.73.04' (their office is '36.73.05')"));
  kjt_run_release(&r);
  RUN(r, f, 1, "add", "activity", ("nip=" R_OTHER), "date=2026-03-02", "indicator=DOC",
      "quantity=1");
  assert_non_null(strstr(r.err, "is not on the roster of office '36.73.04'"));
  kjt_run_release(&r);
  assert_int_equal(count_live(f, KJ_T_TARGET), 0);
  assert_int_equal(count_live(f, KJ_T_ACTIVITY), 0);

  /* created draft or submitted only */
  RUN(r, f, 1, "add", "activity", ("nip=" R_STAFF), "date=2026-03-02", "indicator=DOC",
      "quantity=3", "status=approved");
  assert_non_null(strstr(r.err, ": a new activity is draft or submitted"));
  kjt_run_release(&r);
  RUN(r, f, 0, "add", "activity", ("nip=" R_STAFF), "date=2026-03-02", "indicator=DOC",
      "quantity=3");
  char *id = strdup(chomp(r.out));
  kjt_run_release(&r);

  /* only the supervisor approves, never oneself; the refusal names the
   * people as the roster does, and the activity once */
  RUN(r, f, 1, "approve", id, "--as", R_PEER);
  char want[256];
  snprintf(want, sizeof want,
           "refused  activity %s: only the supervisor of Siti Aminah (" R_STAFF
           ") approves their activities: Budi Santoso (" R_SUP ")\n",
           id);
  assert_non_null(strstr(r.out, want)); /* one line per activity, then the summary */
  assert_null(strstr(strstr(r.out, id) + 1, id));
  assert_non_null(strstr(r.out, "approved 0 of 1 activity as " R_PEER "; 1 refused"));
  kjt_run_release(&r);
  RUN(r, f, 1, "approve", id, "--as", R_STAFF);
  assert_non_null(strstr(r.out, "nobody approves their own activity (Siti Aminah, " R_STAFF ")"));
  kjt_run_release(&r);
  char *st = show_field(f, id, "status");
  assert_null(st); /* nothing stored: still the default */
  free(st);
  RUN(r, f, 0, "approve", id, "--as", R_SUP);
  kjt_run_release(&r);
  st = show_field(f, id, "status");
  assert_string_equal(st, "approved");
  free(st);

  /* the operator cannot take the decision back */
  RUN(r, f, 1, "update", id, "status=submitted", "reviewed_by=");
  assert_non_null(strstr(r.err, "only the approver (Budi Santoso, " R_SUP ") changes the status"));
  kjt_run_release(&r);
  RUN(r, f, 1, "update", id, "reviewed_by=" R_PEER);
  assert_non_null(strstr(r.err, "reviewed_by is set only by an approve or reject"));
  kjt_run_release(&r);

  /* an edit of an approved activity sends it for review again */
  RUN(r, f, 0, "update", id, "quantity=30");
  kjt_run_release(&r);
  st = show_field(f, id, "status");
  assert_string_equal(st, "submitted");
  free(st);
  st = show_field(f, id, "reviewed_by");
  assert_null(st);
  free(st);
  /* and the change says so to the server */
  s = open_store(f);
  kj_change ch[8];
  int n;
  kj_err err;
  assert_int_equal(kjc_outbox_batch(s, 8, ch, &n, &err), KJ_OK);
  assert_int_equal(n, 3);
  assert_string_equal(kj_record_get(&ch[2].rec, "status"), "submitted");
  int fr = kj_field_index(kj_type(KJ_T_ACTIVITY), "reviewed_by");
  assert_true((ch[2].mask >> fr) & 1u);
  assert_null(ch[2].rec.v[fr]);
  for (int i = 0; i < n; i++)
    kj_change_release(&ch[i]);
  kjc_store_close(s);

  /* approved again, and the server refused that change: the next edit
   * sends the whole record again, and for review again all the same */
  RUN(r, f, 0, "approve", id, "--as", R_SUP);
  kjt_run_release(&r);
  s = open_store(f);
  int64_t top = 0;
  assert_int_equal(kjc_outbox_max_seq(s, &top, &err), KJ_OK);
  assert_int_equal(kjc_outbox_reject(s, top, "refused for the test", &err), KJ_OK);
  kjc_store_close(s);
  RUN(r, f, 0, "update", id, "description=rekam KTP");
  kjt_run_release(&r);
  st = show_field(f, id, "status");
  assert_string_equal(st, "submitted");
  free(st);

  /* a draft is submitted before it is approved */
  RUN(r, f, 0, "add", "activity", ("nip=" R_STAFF), "date=2026-03-02", "indicator=DOC",
      "quantity=3", "status=draft");
  char *draft = strdup(chomp(r.out));
  kjt_run_release(&r);
  RUN(r, f, 1, "approve", draft, "--as", R_SUP);
  assert_non_null(strstr(r.out, "a draft is submitted before it is approved or rejected"));
  kjt_run_release(&r);

  /* a decision is undone by a delete only in the approver's hands */
  RUN(r, f, 0, "add", "activity", ("nip=" R_STAFF), "date=2026-03-03", "indicator=DOC",
      "quantity=4");
  char *done_id = strdup(chomp(r.out));
  kjt_run_release(&r);
  RUN(r, f, 0, "approve", done_id, "--as", R_SUP);
  kjt_run_release(&r);
  RUN(r, f, 1, "delete", done_id);
  assert_non_null(strstr(r.err, "an activity that is approved is deleted only by its approver "
                                "(Budi Santoso, " R_SUP "), not by 'operator'"));
  kjt_run_release(&r);
  assert_int_equal(count_live(f, KJ_T_ACTIVITY), 3);
  RUN(r, f, 0, "delete", done_id, "--as", R_SUP);
  kjt_run_release(&r);
  assert_int_equal(count_live(f, KJ_T_ACTIVITY), 2);
  free(done_id);

  /* a rating is its rater's: the operator does not write one */
  // NOLINTNEXTLINE(bugprone-suspicious-missing-comma): "ratee=" R_X is one argument
  RUN(r, f, 2, "add", "rating", "period=2026", ("rater=" R_SUP), ("ratee=" R_STAFF), "role=atasan",
      "s1=4", "s2=4", "s3=4", "s4=4", "s5=4", "s6=4", "s7=4");
  assert_non_null(strstr(r.err, "rating: --as NIP is required: a rating is written by its rater"));
  kjt_run_release(&r);
  /* signed in as someone else than the rater: refused by the rule */
  // NOLINTNEXTLINE(bugprone-suspicious-missing-comma): "ratee=" R_X is one argument
  RUN(r, f, 1, "add", "rating", "period=2026", ("rater=" R_SUP), ("ratee=" R_STAFF), "role=atasan",
      "s1=4", "s2=4", "s3=4", "s4=4", "s5=4", "s6=4", "s7=4", "--as", R_PEER);
  assert_non_null(strstr(r.err, "a rating is written by its rater (Budi Santoso, " R_SUP
                                "), not by 'Rina Wati (" R_PEER ")'"));
  kjt_run_release(&r);
  // NOLINTNEXTLINE(bugprone-suspicious-missing-comma): "ratee=" R_X is one argument
  RUN(r, f, 0, "add", "rating", "period=2026", ("rater=" R_SUP), ("ratee=" R_STAFF), "role=atasan",
      "s1=4", "s2=4", "s3=4", "s4=4", "s5=4", "s6=4", "s7=4", "--as", R_SUP);
  kjt_run_release(&r);
  // NOLINTNEXTLINE(bugprone-suspicious-missing-comma): "ratee=" R_X is one argument
  RUN(r, f, 1, "add", "rating", "period=2026", ("rater=" R_SUP), ("ratee=" R_STAFF), "role=atasan",
      "s1=3", "s2=4", "s3=4", "s4=4", "s5=4", "s6=4", "s7=4", "--as", R_SUP);
  assert_non_null(strstr(r.err, "one rating per period, rater and ratee"));
  kjt_run_release(&r);
  unsetenv("KINERJA_PIN");

  /* no date after the office's today */
  time_t now = time(NULL) + (time_t)2 * 86400;
  struct tm tm;
  gmtime_r(&now, &tm);
  char date[32];
  strftime(date, sizeof date, "date=%Y-%m-%d", &tm);
  RUN(r, f, 1, "add", "survey", date, "service=KTP-el", "u1=4", "u2=4", "u3=4", "u4=4", "u5=4",
      "u6=4", "u7=4", "u8=4", "u9=4");
  assert_non_null(strstr(r.err, "is after the office's today"));
  assert_non_null(strstr(r.err, "in Asia/Jakarta)"));
  kjt_run_release(&r);
  free(id);
  free(draft);
}

/* ---- import / export ---- */

static const char edge_csv[] =
    "\xEF\xBB\xBF"
    "id,office,date,service,u1,u2,u3,u4,u5,u6,u7,u8,u9,age,sex,education,occupation,comment\r\n"
    "01900000-0000-7000-8000-000000000001,,2026-03-01,KTP-el,4,4,4,4,4,4,4,4,4,30,L,SMA,petani,"
    "\"baik, cepat\"\r\n"
    "01900000-0000-7000-8000-000000000002,,2026-03-01,\"Akta "
    "\"\"Kelahiran\"\"\",3,3,3,3,3,3,3,3,3,,,"
    ",,\"baris satu\r\nbaris dua\"\r\n"
    ",36.73.04,2026-03-02,KTP-el,1,2,3,4,1,2,3,4,1,,P,D4-S1,,\r\n";

static void t_import_csv_edge_cases(void **state) {
  fx *f = *state;
  kjt_run r;
  const char *csv = kjt_path(f->dir, "edge.csv");
  kjt_write(csv, edge_csv);
  RUN(r, f, 0, "import", "survey", csv);
  assert_non_null(strstr(r.out, "3 new"));
  kjt_run_release(&r);
  kjc_store *s = open_store(f);
  kj_rstate st;
  kj_err err;
  assert_int_equal(kjc_record_get(s, KJ_T_NONE, "01900000-0000-7000-8000-000000000001", &st, &err),
                   KJ_OK);
  assert_string_equal(kj_record_get(&st.rec, "comment"), "baik, cepat");
  assert_string_equal(kj_record_get(&st.rec, "office"), "36.73.04"); /* empty = own office */
  assert_string_equal(kj_record_get(&st.rec, "age"), "30");
  kj_rstate_release(&st);
  assert_int_equal(kjc_record_get(s, KJ_T_NONE, "01900000-0000-7000-8000-000000000002", &st, &err),
                   KJ_OK);
  assert_string_equal(kj_record_get(&st.rec, "service"), "Akta \"Kelahiran\"");
  assert_null(kj_record_get(&st.rec, "age")); /* empty cell = absent */
  assert_non_null(strstr(kj_record_get(&st.rec, "comment"), "baris satu"));
  assert_non_null(strstr(kj_record_get(&st.rec, "comment"), "\nbaris dua"));
  kj_rstate_release(&st);
  kjc_store_close(s);
  assert_int_equal(count_live(f, KJ_T_SURVEY), 3);
  assert_int_equal(count_pending(f), 3);
  RUN(r, f, 0, "list", "survey", "--json");
  cJSON *o = cJSON_Parse(r.out);
  int own_office = 0;
  for (cJSON *it = o->child; it; it = it->next) {
    assert_int_equal(strlen(cJSON_GetObjectItem(it, "id")->valuestring), 36);
    own_office += !strcmp(cJSON_GetObjectItem(it, "office")->valuestring, "36.73.04");
  }
  assert_int_equal(own_office, 3);
  cJSON_Delete(o);
  kjt_run_release(&r);
}

static void t_import_bad_rows(void **state) {
  fx *f = *state;
  kjt_run r;
  const char *csv = kjt_path(f->dir, "bad.csv");
  kjt_write(csv, SURVEY_HEADER
            ",,2026-03-01,KTP-el,4,4,4,4,4,4,4,4,4,,,,,\n"               /* line 2 ok */
            ",,2026-03-01,KTP-el,4,4,9,4,4,4,4,4,4,,,,,\"two\nlines\"\n" /* line 3 bad u3 */
            ",,2026-03-01,,4,4,4,4,4,4,4,4,4,,X,,,\n"                    /* line 5 bad twice */
            ",,2026-03-03,KTP-el,1,1,1,1,1,1,1,1,1,,,,,\n");             /* line 6 ok */
  RUN(r, f, 1, "import", "survey", csv);
  char want[4200];
  snprintf(want, sizeof want, "%s:3: field 'u3': must be an integer from 1 to 4\n", csv);
  assert_non_null(strstr(r.err, want));
  snprintf(want, sizeof want, "%s:5: field 'service'", csv);
  assert_non_null(strstr(r.err, want));
  snprintf(want, sizeof want, "%s:5: field 'sex'", csv);
  assert_non_null(strstr(r.err, want));
  assert_non_null(strstr(r.out, "2 new"));
  kjt_run_release(&r);
  assert_int_equal(count_live(f, KJ_T_SURVEY), 2);

  /* --strict: the same file stores nothing (--again: its good rows were
   * imported above) */
  RUN(r, f, 1, "import", "survey", csv, "--strict", "--again");
  assert_non_null(strstr(r.err, "nothing imported"));
  kjt_run_release(&r);
  assert_int_equal(count_live(f, KJ_T_SURVEY), 2);
  assert_int_equal(count_pending(f), 2);

  /* a bad header fails the whole file */
  const char *hdr = kjt_path(f->dir, "hdr.csv");
  kjt_write(hdr, "id,office,date,colour\n,,2026-03-01,red\n");
  RUN(r, f, 1, "import", "survey", hdr);
  assert_non_null(strstr(r.err, "colour"));
  kjt_run_release(&r);
  RUN(r, f, 1, "import", "survey", kjt_path(f->dir, "absent.csv"));
  assert_non_null(strstr(r.err, "cannot open"));
  kjt_run_release(&r);
  assert_int_equal(count_live(f, KJ_T_SURVEY), 2);
}

/* domain.md "CSV files": a file saved by a spreadsheet set to Indonesian
 * (';', DD/MM/YYYY, decimal commas, capitalised header) imports, says what
 * it saw, and is stored and exported in the canonical form. */
static void t_import_spreadsheet_variants(void **state) {
  fx *f = *state;
  kjt_run r;
  const char *csv = kjt_path(f->dir, "kegiatan.csv");
  kjt_write(csv, "\xEF\xBB\xBF"
                 "ID;Office;NIP;Date;Indicator;Quantity;Minutes;Description\r\n"
                 "01900000-0000-7000-8000-0000000000a1;;" NIP1
                 ";05/03/2026;DOC;2,5;90;\"Rapat; notulen 1,5 jam\"\r\n"
                 "01900000-0000-7000-8000-0000000000a2;36.73.04;" NIP2 ";6/3/2026;DOC;0,25;;\r\n");
  RUN(r, f, 0, "import", "activity", csv);
  char want[4200];
  snprintf(want, sizeof want,
           "%s: read as ';'-separated, dates DD/MM/YYYY, decimal commas, column names in any "
           "letter case\n",
           csv);
  assert_non_null(strstr(r.out, want));
  assert_non_null(strstr(r.out, "2 new"));
  kjt_run_release(&r);
  kjc_store *s = open_store(f);
  kj_rstate st;
  kj_err err;
  assert_int_equal(kjc_record_get(s, KJ_T_NONE, "01900000-0000-7000-8000-0000000000a1", &st, &err),
                   KJ_OK);
  assert_string_equal(kj_record_get(&st.rec, "date"), "2026-03-05"); /* day first */
  assert_string_equal(kj_record_get(&st.rec, "quantity"), "2.5");
  assert_string_equal(kj_record_get(&st.rec, "description"), "Rapat; notulen 1,5 jam");
  kj_rstate_release(&st);
  kjc_store_close(s);
  /* export stays canonical: ',' ISO dates, decimal point */
  RUN(r, f, 0, "export", "activity");
  assert_non_null(strstr(r.out, "01900000-0000-7000-8000-0000000000a1,36.73.04," NIP1
                                ",2026-03-05,DOC,2.5,90,\"Rapat; notulen 1,5 jam\",,,\n"));
  assert_non_null(strstr(r.out, "01900000-0000-7000-8000-0000000000a2,36.73.04," NIP2
                                ",2026-03-06,DOC,0.25,,,,,\n"));
  kjt_run_release(&r);

  /* a canonical file says nothing about variants */
  const char *plain = kjt_path(f->dir, "plain.csv");
  kjt_write(plain, SURVEY_HEADER ",,2026-03-01,KTP-el,4,4,4,4,4,4,4,4,4,,,,,\n");
  RUN(r, f, 0, "import", "survey", plain);
  assert_null(strstr(r.out, "read as"));
  kjt_run_release(&r);

  /* a NIP a spreadsheet turned into 1.98E+17 is refused and says why */
  const char *sci = kjt_path(f->dir, "sci.csv");
  kjt_write(sci, "nip;date;indicator;quantity\n1,98E+17;05/03/2026;DOC;1\n");
  RUN(r, f, 1, "import", "activity", sci);
  snprintf(want, sizeof want,
           "%s:2: field 'nip': 1,98E+17 is not a NIP: the spreadsheet turned the NIP into a "
           "number and lost its last digits; format the column as text and type the NIPs "
           "again\n",
           sci);
  assert_string_equal(r.err, want);
  kjt_run_release(&r);

  /* an unknown column lists the expected ones */
  const char *hdr = kjt_path(f->dir, "hdr.csv");
  kjt_write(hdr, "NIP;Tanggal;indicator;quantity\n" NIP1 ";05/03/2026;DOC;1\n");
  RUN(r, f, 1, "import", "activity", hdr);
  snprintf(want, sizeof want,
           "kinerja: %s:1: unknown column 'tanggal'; the columns of activities.csv are "
           "id,office,nip,date,indicator,quantity,minutes,description,evidence,status,"
           "reviewed_by\n",
           hdr);
  assert_non_null(strstr(r.err, want));
  kjt_run_release(&r);
  assert_int_equal(count_live(f, KJ_T_ACTIVITY), 2);
}

/* Rows of another office are refused line by line and never stored: this
 * PC writes its own office's records only. */
static void t_import_other_office_refused(void **state) {
  fx *f = *state;
  kjt_run r;
  const char *csv = kjt_path(f->dir, "mixed.csv");
  kjt_write(csv, SURVEY_HEADER ",36.73.04,2026-03-01,KTP-el,4,4,4,4,4,4,4,4,4,,,,,\n"
                               ",36.73.02,2026-03-01,KTP-el,1,1,1,1,1,1,1,1,1,,,,,\n"
                               ",,2026-03-02,KTP-el,3,3,3,3,3,3,3,3,3,,,,,\n"
                               "01900000-0000-7000-8000-0000000000b4,36.73.02,2026-03-02,KTP-el,"
                               "1,1,1,1,1,1,1,1,1,,,,,\n");
  RUN(r, f, 1, "import", "survey", csv);
  char want[4200];
  snprintf(want, sizeof want,
           "%s:3: field 'office': '36.73.02' is another office; this PC is office '36.73.04'\n"
           "%s:5: field 'office': '36.73.02' is another office; this PC is office '36.73.04'\n"
           "kinerja: warning: fix the 2 bad rows and import only them, in a file of their own: "
           "importing all of '%s' again would store its 2 new rows a second time\n",
           csv, csv, csv);
  assert_string_equal(r.err, want);
  assert_non_null(strstr(r.out, "2 new, 0 updated, 0 unchanged, 2 bad (not imported)"));
  kjt_run_release(&r);
  assert_int_equal(count_live(f, KJ_T_SURVEY), 2);
  assert_int_equal(count_pending(f), 2); /* nothing of 36.73.02 waits to be sent */
  RUN(r, f, 0, "list", "survey", "--json");
  assert_null(strstr(r.out, "36.73.02"));
  kjt_run_release(&r);
  kjc_store *s = open_store(f);
  kj_rstate st;
  kj_err err;
  assert_int_not_equal(
      kjc_record_get(s, KJ_T_NONE, "01900000-0000-7000-8000-0000000000b4", &st, &err), KJ_OK);
  kjc_store_close(s);
  /* --strict: one such row stores nothing */
  RUN(r, f, 1, "import", "survey", csv, "--strict", "--again");
  kjt_run_release(&r);
  assert_int_equal(count_live(f, KJ_T_SURVEY), 2);
}

/* The same rows twice add nothing and say when they came first (local
 * time), also when the file was saved again in the spreadsheet form;
 * --again imports them again. */
static void t_import_again(void **state) {
  fx *f = *state;
  kjt_run r;
  const char *csv = kjt_path(f->dir, "surveys.csv");
  kjt_write(csv, SURVEY_HEADER ",,2026-03-01,KTP-el,4,4,4,4,4,4,4,4,4,,,,,\n"
                               ",,2026-03-01,KTP-el,3,3,3,3,3,3,3,3,3,25,P,,,\n");
  setenv("TZ", "Asia/Jakarta", 1);
  tzset();
  RUN(r, f, 0, "import", "survey", csv);
  assert_non_null(strstr(r.out, "2 new"));
  kjt_run_release(&r);
  time_t now = time(NULL);
  char today[32];
  strftime(today, sizeof today, "%Y-%m-%d", localtime(&now));
  assert_int_equal(count_live(f, KJ_T_SURVEY), 2);

  RUN(r, f, 0, "import", "survey", csv);
  char want[4200];
  snprintf(want, sizeof want, "kinerja: warning: the rows of '%s' were imported before, on %s ",
           csv, today);
  assert_non_null(strstr(r.err, want));
  snprintf(want, sizeof want, " WIB from '%s': nothing added (--again imports them again)\n", csv);
  assert_non_null(strstr(r.err, want));
  assert_int_equal(kjt_lines(r.err), 1);
  assert_string_equal(r.out, "");
  kjt_run_release(&r);
  assert_int_equal(count_live(f, KJ_T_SURVEY), 2);
  assert_int_equal(count_pending(f), 2);

  /* the same rows saved by a spreadsheet: ';', other column order, case */
  const char *sheet = kjt_path(f->dir, "surveys-excel.csv");
  kjt_write(sheet, "\xEF\xBB\xBF"
                   "Date;Service;U1;U2;U3;U4;U5;U6;U7;U8;U9;Age;Sex;Id;Office\r\n"
                   "01/03/2026;KTP-el;4;4;4;4;4;4;4;4;4;;;;\r\n"
                   "01/03/2026;KTP-el;3;3;3;3;3;3;3;3;3;25;P;;\r\n");
  RUN(r, f, 0, "import", "survey", sheet);
  assert_non_null(strstr(r.out, "read as ';'-separated, dates DD/MM/YYYY"));
  snprintf(want, sizeof want, "the rows of '%s' were imported before", sheet);
  assert_non_null(strstr(r.err, want));
  snprintf(want, sizeof want, "from '%s'", csv); /* the first file */
  assert_non_null(strstr(r.err, want));
  kjt_run_release(&r);
  assert_int_equal(count_live(f, KJ_T_SURVEY), 2);

  /* --again: imported (new ids: two more surveys) */
  RUN(r, f, 0, "import", "survey", csv, "--again");
  assert_non_null(strstr(r.out, "2 new"));
  assert_string_equal(r.err, "");
  kjt_run_release(&r);
  assert_int_equal(count_live(f, KJ_T_SURVEY), 4);
  unsetenv("TZ");
  tzset();

  /* other rows are another import */
  kjt_write(csv, SURVEY_HEADER ",,2026-03-02,KTP-el,4,4,4,4,4,4,4,4,4,,,,,\n");
  RUN(r, f, 0, "import", "survey", csv);
  assert_non_null(strstr(r.out, "1 new"));
  kjt_run_release(&r);
  assert_int_equal(count_live(f, KJ_T_SURVEY), 5);
  /* a file whose every row was bad was not imported: trying again works */
  const char *bad = kjt_path(f->dir, "bad.csv");
  kjt_write(bad, SURVEY_HEADER ",,2026-03-02,KTP-el,9,4,4,4,4,4,4,4,4,,,,,\n");
  RUN(r, f, 1, "import", "survey", bad);
  kjt_run_release(&r);
  RUN(r, f, 1, "import", "survey", bad);
  assert_null(strstr(r.err, "imported before"));
  assert_non_null(strstr(r.err, "field 'u1'"));
  kjt_run_release(&r);
}

static void t_import_updates_existing(void **state) {
  fx *f = *state;
  kjt_run r;
  const char *csv = kjt_path(f->dir, "a.csv");
  kjt_write(csv, SURVEY_HEADER
            "01900000-0000-7000-8000-000000000007,,2026-03-01,KTP-el,4,4,4,4,4,4,4,4,4,33,,,,\n");
  RUN(r, f, 0, "import", "survey", csv);
  kjt_run_release(&r);
  kjt_write(csv, SURVEY_HEADER
            "01900000-0000-7000-8000-000000000007,,2026-03-01,KTP-el,4,4,2,4,4,4,4,4,4,,,,,\n");
  RUN(r, f, 0, "import", "survey", csv);
  assert_non_null(strstr(r.out, "1 updated"));
  kjt_run_release(&r);
  kjc_store *s = open_store(f);
  kj_change ch[4];
  int n;
  kj_err err;
  assert_int_equal(kjc_outbox_batch(s, 4, ch, &n, &err), KJ_OK);
  assert_int_equal(n, 2);
  const kj_type_def *t = kj_type(KJ_T_SURVEY);
  /* the update carries just what changed: u3 set, age cleared */
  assert_int_equal(ch[1].mask, (1u << kj_field_index(t, "u3")) | (1u << kj_field_index(t, "age")));
  assert_string_equal(ch[1].rec.v[kj_field_index(t, "u3")], "2");
  assert_null(ch[1].rec.v[kj_field_index(t, "age")]);
  for (int i = 0; i < n; i++)
    kj_change_release(&ch[i]);
  kjc_store_close(s);
}

static void t_round_trip(void **state) {
  fx *f = *state;
  kjt_run r;
  const char *csv = kjt_path(f->dir, "edge.csv");
  kjt_write(csv, edge_csv);
  RUN(r, f, 0, "import", "survey", csv);
  kjt_run_release(&r);
  RUN(r, f, 0, "export", "survey");
  char *first = strdup(r.out);
  kjt_run_release(&r);
  assert_int_equal(strncmp(first, SURVEY_HEADER, strlen(SURVEY_HEADER)), 0);
  const char *out = kjt_path(f->dir, "out.csv");
  kjt_write(out, first);
  long pending = count_pending(f);
  RUN(r, f, 0, "import", "survey", out);
  assert_non_null(strstr(r.out, "0 new, 0 updated, 3 unchanged"));
  kjt_run_release(&r);
  assert_int_equal(count_pending(f), pending); /* nothing to sync either */
  RUN(r, f, 0, "export", "survey");
  assert_string_equal(r.out, first);
  kjt_run_release(&r);
  /* into a fresh database: the same records */
  const char *db2 = kjt_path(f->dir, "k2.db");
  assert_int_equal(KJT(&r, db2, "init", "--office", "36.73.04"), 0);
  kjt_run_release(&r);
  assert_int_equal(KJT(&r, db2, "import", "survey", out), 0);
  kjt_run_release(&r);
  assert_int_equal(KJT(&r, db2, "export", "survey"), 0);
  assert_string_equal(r.out, first);
  kjt_run_release(&r);
  RUN(r, f, 0, "export", "survey", "--format", "json");
  cJSON *o = cJSON_Parse(r.out);
  assert_int_equal(cJSON_GetArraySize(o), 3);
  cJSON_Delete(o);
  kjt_run_release(&r);
  free(first);
}

/* Issue 15 point 5: a record stored before the control-character rule (here
 * as a pull brings it, which the client does not validate) prints escaped
 * by list and show, and as JSON without a raw control byte (a tab is only
 * the indentation of cJSON_Print). */
static int has_raw_control(const char *s) {
  for (const unsigned char *p = (const unsigned char *)s; *p; p++)
    if ((*p < 0x20 && *p != '\n' && *p != '\t') || *p == 0x7f ||
        (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f))
      return 1;
  return 0;
}

static void t_escaped_output(void **state) {
  fx *f = *state;
  kjt_run r;
  const char *id = "0190a0b0-1c2d-7e3f-8a4b-5c6d7e8f9a77";
  kjc_store *s = open_store(f);
  kj_err err;
  kj_rstate st;
  kj_rstate_init(&st, KJ_T_SURVEY);
  snprintf(st.rec.id, sizeof st.rec.id, "%s", id);
  const kj_type_def *t = kj_type(KJ_T_SURVEY);
  const char *vals[][2] = {{"office", "36.73.04"},
                           {"date", "2026-03-02"},
                           {"service", "KTP\xc2\x9b\x33\x31m"},
                           {"u1", "4"},
                           {"u2", "4"},
                           {"u3", "4"},
                           {"u4", "4"},
                           {"u5", "4"},
                           {"u6", "4"},
                           {"u7", "4"},
                           {"u8", "4"},
                           {"u9", "4"},
                           {"occupation", "\x1b]0;owned\x07"},
                           {"comment", "baris 1\n\x1b[2Jbaris 2\x7f"}};
  for (size_t i = 0; i < sizeof vals / sizeof *vals; i++) {
    int k = kj_field_index(t, vals[i][0]);
    kj_record_set(&st.rec, k, vals[i][1]);
    st.st[k].hlc = KJ_HLC_MAKE(1000, 0);
    snprintf(st.st[k].device, sizeof st.st[k].device, "server");
  }
  assert_int_equal(kjc_store_apply_remote(s, &st, NULL, &err), KJ_OK);
  kj_rstate_release(&st);
  /* master data too: an employee whose name carries an escape */
  kj_rstate_init(&st, KJ_T_EMPLOYEE);
  snprintf(st.rec.id, sizeof st.rec.id, "%s", NIP2);
  const kj_type_def *et = kj_type(KJ_T_EMPLOYEE);
  const char *ev[][2] = {{"name", "Siti\x1b[8m"}, {"office", "36.73.04"}};
  for (int i = 0; i < 2; i++) {
    int k = kj_field_index(et, ev[i][0]);
    kj_record_set(&st.rec, k, ev[i][1]);
    st.st[k].hlc = KJ_HLC_MAKE(1000, 0);
    snprintf(st.st[k].device, sizeof st.st[k].device, "server");
  }
  assert_int_equal(kjc_store_apply_remote(s, &st, NULL, &err), KJ_OK);
  kj_rstate_release(&st);
  kjc_store_close(s);

  RUN(r, f, 0, "list", "survey");
  if (has_raw_control(r.out))
    fail_msg("raw control character in list:\n%s", r.out);
  assert_non_null(strstr(r.out, " service=KTP\\u009b31m"));
  assert_non_null(strstr(r.out, " occupation=\\e]0;owned\\x07"));
  assert_non_null(strstr(r.out, " comment=\"baris 1\\n\\e[2Jbaris 2\\x7f\""));
  kjt_run_release(&r);

  RUN(r, f, 0, "show", id);
  if (has_raw_control(r.out))
    fail_msg("raw control character in show:\n%s", r.out);
  assert_non_null(strstr(r.out, "comment      baris 1\n             \\e[2Jbaris 2\\x7f\n"));
  assert_non_null(strstr(r.out, "occupation   \\e]0;owned\\x07\n"));
  kjt_run_release(&r);

  RUN(r, f, 0, "list", "employee");
  assert_false(has_raw_control(r.out));
  assert_non_null(strstr(r.out, "name=Siti\\e[8m"));
  kjt_run_release(&r);

  /* JSON: escaped by JSON's own rules, the same values when parsed */
  const char *const json_cmds[][4] = {{"list", "survey", "--json", NULL},
                                      {"show", id, "--json", NULL}};
  for (int c = 0; c < 2; c++) {
    assert_int_equal(KJT(&r, f->db, json_cmds[c][0], json_cmds[c][1], json_cmds[c][2]), 0);
    if (has_raw_control(r.out))
      fail_msg("raw control character in %s --json:\n%s", json_cmds[c][0], r.out);
    cJSON *doc = cJSON_Parse(r.out);
    assert_non_null(doc);
    const cJSON *o = cJSON_IsArray(doc) ? cJSON_GetArrayItem(doc, 0) : doc;
    assert_string_equal(cJSON_GetObjectItem(o, "comment")->valuestring,
                        "baris 1\n\x1b[2Jbaris 2\x7f");
    assert_string_equal(cJSON_GetObjectItem(o, "service")->valuestring, "KTP\xc2\x9b\x33\x31m");
    cJSON_Delete(doc);
    kjt_run_release(&r);
  }

  /* and a new value with a control character is refused, naming the field */
  RUN(r, f, 1, "add", "survey", "date=2026-03-02", "service=KTP\x1b[2J", "u1=4", "u2=4", "u3=4",
      "u4=4", "u5=4", "u6=4", "u7=4", "u8=4", "u9=4");
  assert_non_null(strstr(r.err, "field 'service': must not contain control characters"));
  kjt_run_release(&r);
}

/* Issue 15 point 6: kinerja export guards every formula trigger (OWASP) and
 * kinerja import takes it back: export -> import -> export is exact, also
 * for values that really start with a quote before a trigger. */
static void t_formula_round_trip(void **state) {
  fx *f = *state;
  kjt_run r;
  static const char *const v[][3] = {
      /* service, occupation, comment */
      {"=1+1", "+62 812", "-5 poin"},
      {"@SUM(A1:A9)", "'=x", "\tawal tab"},
      {"''-5", "'abc", "=HYPERLINK(\"http://x\",\"y\")"},
  };
  for (int i = 0; i < 3; i++) {
    char sv[64], oc[64], cm[64];
    snprintf(sv, sizeof sv, "service=%s", v[i][0]);
    snprintf(oc, sizeof oc, "occupation=%s", v[i][1]);
    snprintf(cm, sizeof cm, "comment=%s", v[i][2]);
    RUN(r, f, 0, "add", "survey", "date=2026-03-02", sv, oc, cm, "u1=4", "u2=4", "u3=4", "u4=4",
        "u5=4", "u6=4", "u7=4", "u8=4", "u9=4");
    kjt_run_release(&r);
  }
  RUN(r, f, 0, "export", "survey");
  char *first = strdup(r.out);
  kjt_run_release(&r);
  /* no cell starts a formula: each trigger has its quote */
  assert_non_null(strstr(first, ",'=1+1,"));
  assert_non_null(strstr(first, ",'+62 812,'-5 poin\n"));
  assert_non_null(strstr(first, ",'@SUM(A1:A9),"));
  assert_non_null(strstr(first, ",''=x,'\tawal tab\n"));
  assert_non_null(strstr(first, ",'''-5,"));
  assert_non_null(strstr(first, ",'abc,\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"\n"));
  for (const char *p = first; (p = strchr(p, ',')) != NULL; p++) {
    const char *c = p[1] == '"' ? p + 2 : p + 1;
    if (*c == '=' || *c == '+' || *c == '-' || *c == '@' || *c == '\t' || *c == '\r')
      fail_msg("a cell starts with a formula trigger: %.40s", c);
  }
  /* into a fresh database and out again: the same file, the same values */
  const char *csv = kjt_path(f->dir, "guarded.csv");
  kjt_write(csv, first);
  const char *db2 = strdup(kjt_path(f->dir, "k2.db"));
  assert_int_equal(KJT(&r, db2, "init", "--office", "36.73.04"), 0);
  kjt_run_release(&r);
  assert_int_equal(KJT(&r, db2, "import", "survey", csv), 0);
  kjt_run_release(&r);
  assert_int_equal(KJT(&r, db2, "export", "survey"), 0);
  assert_string_equal(r.out, first);
  kjt_run_release(&r);
  assert_int_equal(KJT(&r, db2, "export", "survey", "--format", "json"), 0);
  cJSON *arr = cJSON_Parse(r.out);
  assert_int_equal(cJSON_GetArraySize(arr), 3);
  int found = 0;
  const cJSON *o;
  cJSON_ArrayForEach(o, arr) {
    for (int i = 0; i < 3; i++)
      if (!strcmp(cJSON_GetObjectItem(o, "service")->valuestring, v[i][0])) {
        assert_string_equal(cJSON_GetObjectItem(o, "occupation")->valuestring, v[i][1]);
        assert_string_equal(cJSON_GetObjectItem(o, "comment")->valuestring, v[i][2]);
        found++;
      }
  }
  assert_int_equal(found, 3);
  cJSON_Delete(arr);
  kjt_run_release(&r);
  /* importing the file again into the first database changes nothing */
  RUN(r, f, 0, "import", "survey", csv);
  assert_non_null(strstr(r.out, "0 new, 0 updated, 3 unchanged"));
  kjt_run_release(&r);
  free((char *)db2);
  free(first);
}

/* ---- concurrency ---- */

static void write_surveys(const char *path, int n, int seed) {
  FILE *fp = fopen(path, "w");
  fputs(SURVEY_HEADER, fp);
  for (int i = 0; i < n; i++)
    fprintf(fp, ",,2026-03-%02d,Layanan %d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,L,SMA,,baris %d\n",
            1 + i % 28, seed, 1 + i % 4, 1 + (i / 4) % 4, 2, 3, 4, 1, 2, 3, 4, 18 + i % 60, i);
  fclose(fp);
}

static void t_concurrent_writers(void **state) {
  fx *f = *state;
  const char *a = strdup(kjt_path(f->dir, "a.csv")), *b = strdup(kjt_path(f->dir, "b.csv"));
  write_surveys(a, 15000, 1);
  write_surveys(b, 15000, 2);
  const char *ia[] = {"import", "survey", a, NULL}, *ib[] = {"import", "survey", b, NULL};
  const char *ea = strdup(kjt_path(f->dir, "a.err")), *eb = strdup(kjt_path(f->dir, "b.err"));
  int pa = kjt_spawn(f->db, ia, ea), pb = kjt_spawn(f->db, ib, eb);
  /* single adds in between, from this process's children */
  int adds = 0;
  for (int i = 0; i < 20; i++) {
    kjt_run r;
    int rc = KJT(&r, f->db, "add", "survey", "date=2026-03-02", "service=X", "u1=1", "u2=1", "u3=1",
                 "u4=1", "u5=1", "u6=1", "u7=1", "u8=1", "u9=1");
    if (rc != 0)
      fail_msg("add during imports failed: %s", r.err);
    kjt_run_release(&r);
    adds++;
  }
  assert_int_equal(kjt_wait(pa), 0);
  assert_int_equal(kjt_wait(pb), 0);
  char *e1 = kjt_read(ea), *e2 = kjt_read(eb);
  assert_string_equal(e1, "");
  assert_string_equal(e2, "");
  free(e1);
  free(e2);
  assert_int_equal(count_live(f, KJ_T_SURVEY), 30000 + adds);
  assert_int_equal(count_pending(f), 30000 + adds);
  /* every stamp distinct: the clock is shared through the database */
  kjc_store *s = open_store(f);
  kj_change *ch = calloc(31000, sizeof *ch);
  int n;
  kj_err err;
  assert_int_equal(kjc_outbox_batch(s, 31000, ch, &n, &err), KJ_OK);
  assert_int_equal(n, 30000 + adds);
  for (int i = 1; i < n; i++)
    assert_true(ch[i].hlc > ch[i - 1].hlc);
  for (int i = 0; i < n; i++)
    kj_change_release(&ch[i]);
  free(ch);
  kjc_store_close(s);
  free((char *)a);
  free((char *)b);
  free((char *)ea);
  free((char *)eb);
}

/* A killed import leaves all of its rows or none, and a sound database. */
static void t_killed_import(void **state) {
  fx *f = *state;
  kjt_run r;
  const char *csv = kjt_path(f->dir, "k.csv");
  write_surveys(csv, 60000, 4);
  const char *imp[] = {"import", "survey", csv, NULL};
  int pid = kjt_spawn(f->db, imp, kjt_path(f->dir, "k.err"));
  usleep(300 * 1000); /* mid-way: the import takes about 1 s */
  kill(pid, SIGKILL);
  int st = kjt_wait(pid);
  long n = count_live(f, KJ_T_SURVEY), p = count_pending(f);
  if (st == 128 + SIGKILL)
    assert_true(n == 0 || n == 60000);
  assert_int_equal(p, n);
  RUN(r, f, 0, "add", "survey", "date=2026-03-02", "service=X", "u1=1", "u2=1", "u3=1", "u4=1",
      "u5=1", "u6=1", "u7=1", "u8=1", "u9=1");
  kjt_run_release(&r);
  RUN(r, f, 0, "import", "survey", csv);
  kjt_run_release(&r);
  assert_int_equal(count_live(f, KJ_T_SURVEY), n + 1 + 60000);
}

/* ---- bad environment ---- */

static void t_not_a_database(void **state) {
  fx *f = *state;
  kjt_run r;
  const char *txt = kjt_path(f->dir, "notes.db");
  kjt_write(txt,
            "these are my notes, not a database, but long enough to look like one......"
            "................................................................................");
  assert_int_equal(KJT(&r, txt, "list", "survey"), 1);
  char want[4200];
  snprintf(want, sizeof want, "kinerja: '%s' is not a kinerja database\n", txt);
  assert_string_equal(r.err, want);
  kjt_run_release(&r);
  char *after = kjt_read(txt);
  assert_non_null(strstr(after, "these are my notes")); /* untouched */
  free(after);
  const char *empty = kjt_path(f->dir, "empty.db");
  kjt_write(empty, "");
  assert_int_equal(KJT(&r, empty, "add", "survey", "u1=1"), 1);
  assert_non_null(strstr(r.err, "is not a kinerja database"));
  kjt_run_release(&r);
  assert_int_equal(KJT(&r, f->dir, "status"), 1); /* a directory */
  assert_non_null(strstr(r.err, "is not a kinerja database"));
  kjt_run_release(&r);
}

static void t_newer_schema(void **state) {
  fx *f = *state;
  kjt_run r;
  /* user_version lives at offset 60 of the database header, big-endian */
  FILE *fp = fopen(f->db, "r+b");
  unsigned char v[4] = {0, 0, 0, 99};
  fseek(fp, 60, SEEK_SET);
  fwrite(v, 1, 4, fp);
  fclose(fp);
  RUN(r, f, 1, "list", "survey");
  char want[4200];
  snprintf(want, sizeof want,
           "kinerja: database '%s' has schema version 99, newer than this kinerja (%d): upgrade "
           "kinerja\n",
           f->db, KJC_SCHEMA_VERSION);
  assert_string_equal(r.err, want);
  kjt_run_release(&r);
  RUN(r, f, 1, "add", "survey", "u1=1");
  assert_non_null(strstr(r.err, "upgrade kinerja"));
  kjt_run_release(&r);
}

static void t_read_only(void **state) {
  fx *f = *state;
  kjt_run r;
  char *id = add_survey(f, "4");
  assert_int_equal(chmod(f->db, 0444), 0);
  kjt_opts o = {0, 1}; /* as nobody when root: root ignores file modes */
  const char *add[] = {"add",
                       "survey",
                       "date=2026-03-02",
                       "service=KTP-el",
                       "u1=1",
                       "u2=1",
                       "u3=1",
                       "u4=1",
                       "u5=1",
                       "u6=1",
                       "u7=1",
                       "u8=1",
                       "u9=1",
                       NULL};
  assert_int_equal(kjt_kinerjav(&r, f->db, &o, add), 1);
  char want[4200];
  snprintf(want, sizeof want,
           "kinerja: database '%s' is read-only: cannot write (check its permissions)\n", f->db);
  assert_string_equal(r.err, want);
  kjt_run_release(&r);
  const char *del[] = {"delete", id, NULL};
  assert_int_equal(kjt_kinerjav(&r, f->db, &o, del), 1);
  assert_non_null(strstr(r.err, "read-only"));
  kjt_run_release(&r);
  /* reading still works */
  const char *list[] = {"list", "survey", NULL};
  assert_int_equal(kjt_kinerjav(&r, f->db, &o, list), 0);
  assert_non_null(strstr(r.out, id));
  kjt_run_release(&r);
  chmod(f->db, 0644);
  assert_int_equal(count_live(f, KJ_T_SURVEY), 1);
  assert_int_equal(count_pending(f), 1);
  free(id);
}

static void t_disk_full(void **state) {
  fx *f = *state;
  kjt_run r;
  char *id = add_survey(f, "4");
  const char *csv = kjt_path(f->dir, "big.csv");
  write_surveys(csv, 20000, 3);
  struct stat sb;
  assert_int_equal(stat(f->db, &sb), 0);
  /* No file of the database may grow past 256 KiB: the import (several MB)
   * hits the limit mid-way, as on a full disk. */
  kjt_opts o = {256LL * 1024, 0};
  const char *imp[] = {"import", "survey", csv, NULL};
  assert_int_equal(kjt_kinerjav(&r, f->db, &o, imp), 1);
  assert_non_null(strstr(r.err, "kinerja: disk full"));
  assert_non_null(strstr(r.err, "nothing was imported"));
  kjt_run_release(&r);
  /* a single add: its WAL cannot grow either */
  kjt_opts tiny = {8LL * 1024, 0};
  const char *add[] = {"add",
                       "survey",
                       "date=2026-03-02",
                       "service=KTP-el",
                       "u1=1",
                       "u2=1",
                       "u3=1",
                       "u4=1",
                       "u5=1",
                       "u6=1",
                       "u7=1",
                       "u8=1",
                       "u9=1",
                       NULL};
  assert_int_equal(kjt_kinerjav(&r, f->db, &tiny, add), 1);
  char want[4200];
  snprintf(want, sizeof want,
           "kinerja: disk full: cannot write to '%s' (nothing of this command was saved)\n", f->db);
  assert_string_equal(r.err, want);
  kjt_run_release(&r);
  /* no partial write: the database has exactly what it had */
  assert_int_equal(count_live(f, KJ_T_SURVEY), 1);
  assert_int_equal(count_pending(f), 1);
  RUN(r, f, 0, "import", "survey", csv); /* and works once there is room */
  kjt_run_release(&r);
  assert_int_equal(count_live(f, KJ_T_SURVEY), 20001);
  free(id);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(t_init_refuses_existing_and_missing_db, setup, teardown),
      cmocka_unit_test_setup_teardown(t_unknown_command_and_help, setup, teardown),
      cmocka_unit_test_setup_teardown(t_backup, setup, teardown),
      cmocka_unit_test_setup_teardown(t_db_from_env, setup, teardown),
      cmocka_unit_test_setup_teardown(t_config, setup, teardown),
      cmocka_unit_test_setup_teardown(t_add_show_update_delete, setup, teardown),
      cmocka_unit_test_setup_teardown(t_add_invalid_stores_nothing, setup, teardown),
      cmocka_unit_test_setup_teardown(t_each_type_add, setup, teardown),
      cmocka_unit_test_setup_teardown(t_approve_reject, setup, teardown),
      cmocka_unit_test_setup_teardown(t_outbox_after_add_update_delete, setup, teardown),
      cmocka_unit_test_setup_teardown(t_rejected_listed_and_requeued, setup, teardown),
      cmocka_unit_test_setup_teardown(t_discard_and_rejected_counts, setup, teardown),
      cmocka_unit_test_setup_teardown(t_discard_unknown_base, setup, teardown),
      cmocka_unit_test_setup_teardown(t_other_office_never_ours, setup, teardown),
      cmocka_unit_test_setup_teardown(t_service_matched, setup, teardown),
      cmocka_unit_test_setup_teardown(t_status_time_zone, setup, teardown),
      cmocka_unit_test_setup_teardown(t_master_data_warning, setup, teardown),
      cmocka_unit_test_setup_teardown(t_rules, setup, teardown),
      cmocka_unit_test_setup_teardown(t_import_csv_edge_cases, setup, teardown),
      cmocka_unit_test_setup_teardown(t_import_bad_rows, setup, teardown),
      cmocka_unit_test_setup_teardown(t_import_updates_existing, setup, teardown),
      cmocka_unit_test_setup_teardown(t_import_spreadsheet_variants, setup, teardown),
      cmocka_unit_test_setup_teardown(t_import_other_office_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(t_import_again, setup, teardown),
      cmocka_unit_test_setup_teardown(t_round_trip, setup, teardown),
      cmocka_unit_test_setup_teardown(t_concurrent_writers, setup, teardown),
      cmocka_unit_test_setup_teardown(t_killed_import, setup, teardown),
      cmocka_unit_test_setup_teardown(t_not_a_database, setup, teardown),
      cmocka_unit_test_setup_teardown(t_newer_schema, setup, teardown),
      cmocka_unit_test_setup_teardown(t_read_only, setup, teardown),
      cmocka_unit_test_setup_teardown(t_escaped_output, setup, teardown),
      cmocka_unit_test_setup_teardown(t_formula_round_trip, setup, teardown),
      cmocka_unit_test_setup_teardown(t_disk_full, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
