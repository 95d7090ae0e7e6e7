/* admin_person.c - `kinerjad person activate NIP [--days N]`: a one-time
 * activation code with which the person sets a PIN at an office PC
 * (docs/operations.md "People and PINs").
 *
 * The code is printed once; only its Argon2id hash is stored, in an
 * `activation` master record (proto/record.c) of the person's office,
 * written like an import row (kjs_txn_apply, author admin) so that it
 * reaches the PCs of that office, and only those, with the master data. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cJSON.h>

#include "actcode.h"
#include "admin_int.h"
#include "hlc.h"
#include "passhash.h"
#include "record.h"
#include "store.h"
#include "text.h"
#include "wire.h"

#define DAYS_DEFAULT 30
#define DAYS_MAX 365
#define DAY_MS 86400000LL

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail(const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  fputs("kinerjad: ", stderr);
  kj_term_fputs(msg, stderr);
  fputc('\n', stderr);
}

static const char activate_help[] =
    "usage: kinerjad person activate NIP [--days N]\n"
    "\n"
    "Make a one-time activation code for the employee NIP and print it once\n"
    "(\"activation code: ABCD-EFGH-JKMN\").  Give it to that person only: at a PC\n"
    "of their office, 'kinerja person setup NIP' takes it, after the PC's next\n"
    "sync, and sets their PIN.  Only a hash of the code is stored.  A new code\n"
    "replaces the person's earlier one; activating again is also how a\n"
    "forgotten PIN is reset.  The NIP must be on the roster (an employee record).\n"
    "\n"
    "  --days N     the code works for N days (1-365, default 30)\n"
    "  --data DIR   data directory (default $KINERJAD_DATA, else ./kinerjad-data)\n"
    "\n"
    "example: kinerjad person activate 198001012005011001 --days 7\n";

/* The live employee nip into *office (its `office` field) and *name
 * (malloc'd, may be NULL): 0, or 1 after a message. */
static int roster_lookup(kjs_store *st, const char *nip, char office[KJ_ID_MAX + 1], char **name) {
  char *json = NULL;
  kj_err e;
  kj_err_clear(&e);
  kj_code rc = kjs_store_get_state(st, KJ_T_EMPLOYEE, nip, &json, &e);
  if (rc == KJ_ENOENT) {
    fail("person activate: no employee '%s' on the roster: import the employee first "
         "(kinerjad import employee FILE.csv)",
         nip);
    return 1;
  }
  if (rc) {
    fail("%s", e.msg);
    return 1;
  }
  cJSON *o = cJSON_Parse(json);
  free(json);
  kj_rstate s;
  if (!o || kj_rstate_from_json(o, &s, &e)) {
    cJSON_Delete(o);
    fail("person activate: employee '%s': cannot read its stored state", nip);
    return 1;
  }
  cJSON_Delete(o);
  int r = 0;
  const char *of = kj_record_get(&s.rec, "office");
  if (s.rec.deleted) {
    fail("person activate: employee '%s' was deleted from the roster", nip);
    r = 1;
  } else if (!of || !*of) {
    fail("person activate: employee '%s' has no office", nip);
    r = 1;
  } else {
    snprintf(office, KJ_ID_MAX + 1, "%s", of);
    const char *n = kj_record_get(&s.rec, "name");
    *name = n ? strdup(n) : NULL;
  }
  kj_rstate_release(&s);
  return r;
}

/* The activation record written as the server's own change (author
 * admin) in one transaction.  0, or 1 after a message. */
static int store_activation(cmd_ctx *c, kjs_store *st, const char *nip, const char *office,
                            const char *hash, long long expires_ms) {
  const kj_type_def *td = kj_type(KJ_T_ACTIVATION);
  kjs_item it;
  memset(&it, 0, sizeof it);
  it.label = "activation";
  it.seq = -1;
  it.decoded = 1;
  kj_change_init(&it.ch, KJ_T_ACTIVATION);
  char expires[24];
  snprintf(expires, sizeof expires, "%lld", expires_ms);
  kj_err e;
  kj_err_clear(&e);
  int r = 1;
  kjs_txn *t = NULL;
  if (kj_activation_id(nip, it.ch.rec.id) ||
      kj_record_set_named(&it.ch.rec, "office", office, &e) ||
      kj_record_set_named(&it.ch.rec, "nip", nip, &e) ||
      kj_record_set_named(&it.ch.rec, "code_hash", hash, &e) ||
      kj_record_set_named(&it.ch.rec, "expires", expires, &e)) {
    fail("person activate: %s", e.msg[0] ? e.msg : "out of memory");
    goto out;
  }
  it.ch.mask = (1u << td->nfields) - 1u;
  snprintf(it.ch.device, sizeof it.ch.device, "server");
  snprintf(it.ch.author, sizeof it.ch.author, "admin");
  if (kjs_txn_begin(st, &t, &e) ||
      kjs_txn_stamp(t, kj_wall_ms(), c->cfg.clock_ahead_ms, &it.ch.hlc, &e) ||
      kjs_txn_apply(t, NULL, &it, &e)) {
    fail("%s", e.msg);
    goto out;
  }
  if (it.status == KJS_REJECTED) {
    fail("person activate: %s", it.error);
    goto out;
  }
  kjs_txn *done = t;
  t = NULL;
  if (kjs_txn_commit(done, &e)) {
    fail("%s: no code made", e.msg);
    goto out;
  }
  r = 0;
out:
  if (t)
    kjs_txn_rollback(t);
  kj_change_release(&it.ch);
  return r;
}

static int activate(cmd_ctx *c) {
  const char *nip = NULL, *days_arg = NULL;
  for (int i = 1; i < c->argc; i++) {
    const char *a = c->argv[i];
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      fputs(activate_help, stdout);
      return 0;
    }
    if (!strcmp(a, "--days") && i + 1 < c->argc)
      days_arg = c->argv[++i];
    else if (!strncmp(a, "--days=", 7))
      days_arg = a + 7;
    else if (a[0] == '-' && a[1]) {
      fail("person activate: unknown option '%s' (see 'kinerjad person activate --help')", a);
      return 1;
    } else if (!nip)
      nip = a;
    else {
      fail("person activate: unexpected argument '%s'", a);
      return 1;
    }
  }
  if (!nip) {
    fail("usage: kinerjad person activate NIP [--days N]");
    return 1;
  }
  if (!kj_nip_valid(nip)) {
    fail("person activate: '%s' is not a NIP (18 digits: birth date, appointment YYYYMM, sex "
         "1 or 2, sequence)",
         nip);
    return 1;
  }
  long days = DAYS_DEFAULT;
  if (days_arg) {
    char *end;
    days = strtol(days_arg, &end, 10);
    if (!*days_arg || *end || days < 1 || days > DAYS_MAX) {
      fail("person activate: --days must be a whole number from 1 to %d, not '%s'", DAYS_MAX,
           days_arg);
      return 1;
    }
  }
  kj_err e;
  kj_err_clear(&e);
  kj_code lc = kjs_config_load(&c->cfg, &e);
  if (lc == KJ_ENOENT) {
    fail("no kinerjad data directory at '%s': run 'kinerjad init' first", c->cfg.data_dir);
    return 1;
  }
  kjs_store *st = NULL;
  if (lc || kjs_store_open(&st, c->cfg.db_file, &c->cfg, 0, &e)) {
    fail("%s", e.msg);
    return 1;
  }
  char office[KJ_ID_MAX + 1], plain[KJ_ACTCODE_LEN + 1], shown[KJ_ACTCODE_SHOWN + 1];
  char hash[KJ_PASSHASH_MAX];
  char *name = NULL;
  int r = 1;
  if (roster_lookup(st, nip, office, &name))
    goto out;
  if (kj_actcode_make(plain, shown, &e) || kj_pass_hash(plain, hash, sizeof hash, &e)) {
    fail("person activate: %s", e.msg);
    goto out;
  }
  long long now = (long long)kj_wall_ms(), expires = now + days * DAY_MS;
  if (store_activation(c, st, nip, office, hash, expires))
    goto out;
  time_t et = (time_t)(expires / 1000);
  struct tm tm;
  char when[40] = "";
  if (gmtime_r(&et, &tm))
    strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", &tm);
  printf("activation code: %s\n", shown);
  printf("for %s", nip);
  if (name) {
    fputs(" (", stdout);
    kj_term_fputs(name, stdout);
    fputc(')', stdout);
  }
  printf(" at office ");
  kj_term_fputs(office, stdout);
  printf(", valid until %s (%ld day%s); it reaches the office's PCs at their next sync\n", when,
         days, days == 1 ? "" : "s");
  r = 0;
out:
  memset(plain, 0, sizeof plain);
  memset(shown, 0, sizeof shown);
  free(name);
  kjs_store_close(st);
  return r;
}

int kjs_cmd_person(cmd_ctx *c) {
  if (c->argc < 1 || !strcmp(c->argv[0], "--help") || !strcmp(c->argv[0], "-h")) {
    fputs(activate_help, c->argc ? stdout : stderr);
    return c->argc ? 0 : 1;
  }
  if (!strcmp(c->argv[0], "activate"))
    return activate(c);
  fail("person: unknown subcommand '%s' (the one there is: activate)", c->argv[0]);
  return 1;
}
