/* admin.c - the kinerjad command line. */
#include "admin.h"
#include "admin_bkd.h"
#include "dash.h"
#include "db.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>

#include "admin_int.h"
#include "app.h"
#include "auth.h"
#include "config.h"
#include "csvio.h"
#include "date.h"
#include "dbbackup.h"
#include "hlc.h"
#include "log.h"
#include "report.h"
#include "store.h"
#include "suggest.h"
#include "text.h"
#include "uuid.h"
#include "wire.h"

#define KJS_SERVER_DEVICE "server" /* device id of the server's own changes */

/* One line on stderr: the message formatted, then every control character
 * escaped (kj_term_fputs): values in messages come from files, the command
 * line and the database, and never act on the terminal. */
static void vline(const char *prefix, const char *fmt, va_list ap) {
  char msg[2048];
  vsnprintf(msg, sizeof msg, fmt, ap);
  fputs(prefix, stderr);
  kj_term_fputs(msg, stderr);
  fputc('\n', stderr);
}

static void err_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void err_line(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vline("", fmt, ap);
  va_end(ap);
}

/* A label given with --name: the rules of a text field (1-200 characters,
 * valid UTF-8, no control characters), so nothing can reach a terminal
 * through `device list` later.  0 when fine, else 1 after the message. */
static int bad_label(const char *cmd, const char *name) {
  static const kj_field_def def = {.name = "name", .ft = KJ_FT_TEXT, .min = 1, .max = 200};
  kj_err e;
  kj_err_clear(&e);
  if (!name || kj_field_validate(&def, name, &e) == KJ_OK)
    return 0;
  kjs_adm_error("%s: --name: %s", cmd, e.msg + strlen("field 'name': "));
  return 1;
}

static const char usage_text[] =
    "usage: kinerjad [--data DIR] COMMAND [ARGS]\n"
    "\n"
    "The data directory is --data DIR, else $KINERJAD_DATA, else ./kinerjad-data.\n"
    "\n"
    "commands:\n"
    "  init [--host NAME ...] [--store URL]  create the data directory, database, TLS\n"
    "                                      key and certificate; prints the admin token\n"
    "                                      once (none on a store that has one)\n"
    "  serve [--listen ADDR:PORT] [--plain-http]\n"
    "                                      serve HTTPS (default 127.0.0.1:8443)\n"
    "  device add --office CODE [--name TEXT]  enrol a device; prints its token and\n"
    "                                      enrolment code once\n"
    "  device list [--json]                list devices\n"
    "  device revoke ID                    revoke a device (or token) at once\n"
    "  token add --role admin|viewer [--name TEXT]  a token for people and scripts\n"
    "  token list [--json] | token revoke ID   every token: devices', people's, scripts'\n"
    "  user add NAME --role admin|analyst | user list | user remove NAME\n"
    "                                      people of the BKD dashboard\n"
    "  export TYPE [--office CODE] [--period P] [--format csv|xlsx] [--output FILE]\n"
    "  import TYPE FILE.csv [--strict] [--again]  load master data or records from CSV\n"
    "  conflicts [--json]                  overwritten concurrent values\n"
    "  history ID [--json]                 who changed a record, what and when\n"
    "  person activate NIP [--days N]      an activation code to set a PIN at the office PC\n"
    "  report offices --period P [--as-of D] [--json|--csv]\n"
    "  report employees --period P --office CODE [--json|--csv]\n"
    "  recompute [--verify]                rebuild (or check) the score aggregates\n"
    "  backup FILE                         copy the database, also while serve runs\n"
    "  restore FILE                        put a backup in place (serve stopped)\n"
    "  migrate-store --to URL              copy the SQLite store to PostgreSQL, check it,\n"
    "                                      switch to it (serve stopped)\n"
    "\n"
    "Every command takes --help.\n";

/* Load the config (it must exist: `init` made it) and open the store into
 * *st: 0, or 1 after printing the failure (the caller exits with 1);
 * admin_util.c's, shared with the commands of admin_bkd.h. */
static int open_dir(cmd_ctx *c, kjs_store **st) {
  return kjs_adm_open(&c->cfg, st);
}

/* ---------------------------------------------------------------------- */

/* kjs_store_tokens callback: counts the live admin tokens into *ctx. */
static kj_code count_live_admin(void *ctx, const kjs_db_token *t) {
  if (!t->has_revoked && t->role && !strcmp(t->role, "admin"))
    ++*(int *)ctx;
  return KJ_OK;
}

static int cmd_init(cmd_ctx *c) {
  if (kjs_adm_want_help(c->argc, c->argv)) {
    fputs("usage: kinerjad init [--host NAME ...] [--store postgresql://...]\n\n"
          "Create the data directory (mode 0700) with the database, kinerjad.conf,\n"
          "an ECDSA P-256 key (key.pem) and a self-signed certificate (cert.pem) for\n"
          "localhost, 127.0.0.1 and every --host.  Prints the admin token once\n"
          "(none when --store names a store that already has an admin token).\n"
          "Refuses a directory that already holds a kinerjad database.\n\n"
          "  --host NAME  one more DNS name or IP address for the certificate\n"
          "               (repeatable; default: localhost and 127.0.0.1 only)\n"
          "  --store URL  keep the records, devices, tokens, people, scores and\n"
          "               conflict log in PostgreSQL (postgresql://USER@HOST/DB,\n"
          "               written to kinerjad.conf as `store`); DIR then keeps only\n"
          "               its config, key and certificate.  Several instances,\n"
          "               each with its own DIR, share one store; the schema is\n"
          "               made or upgraded by whichever comes first\n"
          "  --data DIR   data directory (default $KINERJAD_DATA, else ./kinerjad-data)\n"
          "\nexample: kinerjad --data /var/lib/kinerjad init --host bkd.example.go.id\n",
          stdout);
    return 0;
  }
  const char *hosts[64], *store = NULL;
  int nhosts = 0;
  for (int i = 0; i < c->argc; i++) {
    if (!strcmp(c->argv[i], "--store") && i + 1 < c->argc) {
      store = c->argv[++i];
      if (!kjs_db_is_pg(store) || strlen(store) >= sizeof c->cfg.db_file) {
        kjs_adm_error("--store '%s': expected postgresql://USER@HOST/DB", store);
        return 1;
      }
    } else if (!strcmp(c->argv[i], "--host") && i + 1 < c->argc) {
      if (nhosts == 64) {
        kjs_adm_error("too many --host names");
        return 1;
      }
      hosts[nhosts++] = c->argv[++i];
    } else {
      static const char *const known[] = {"--host", "--store", NULL};
      kjs_adm_bad_arg("init", c->argv[i], known);
      return 1;
    }
  }
  const char *dir = c->cfg.data_dir;
  if (mkdir(dir, 0700) != 0) {
    if (errno != EEXIST) {
      kjs_adm_error("cannot create '%s': %s", dir, strerror(errno));
      return 1;
    }
    if (access(c->cfg.conf_file, F_OK) == 0 || access(c->cfg.db_file, F_OK) == 0 ||
        access(c->cfg.key_file, F_OK) == 0) {
      kjs_adm_error("'%s' is already a kinerjad data directory: refusing to overwrite", dir);
      return 1;
    }
  }
  if (chmod(dir, 0700) != 0) {
    kjs_adm_error("cannot set the mode of '%s': %s", dir, strerror(errno));
    return 1;
  }
  int fd = open(c->cfg.conf_file, O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0) {
    kjs_adm_error("cannot create '%s': %s", c->cfg.conf_file, strerror(errno));
    return 1;
  }
  const char *text = kjs_config_default_text();
  size_t len = strlen(text);
  if (write(fd, text, len) != (ssize_t)len ||
      (store && (dprintf(fd,
                         "\n# The store (records, devices, tokens, people, scores): "
                         "PostgreSQL.\nstore = %s\n",
                         store) < 0)) ||
      fsync(fd) != 0) {
    kjs_adm_error("cannot write '%s': %s", c->cfg.conf_file, strerror(errno));
    close(fd);
    return 1;
  }
  close(fd);
  if (store)
    snprintf(c->cfg.db_file, sizeof c->cfg.db_file, "%s", store);
  kj_err e;
  kj_err_clear(&e);
  if (kjh_tls_make_cert(c->cfg.key_file, c->cfg.cert_file, "kinerjad", hosts, nhosts, &e) != 0) {
    kjs_adm_error("%s", e.msg[0] ? e.msg : "cannot make the TLS certificate");
    return 1;
  }
  kjs_store *st;
  if (kjs_store_open(&st, c->cfg.db_file, NULL, 1, &e)) {
    kjs_adm_error("%s", e.msg);
    return 1;
  }
  /* A shared PostgreSQL store that another instance initialised keeps its
   * admin tokens: this instance joins it and adds none (each one more
   * would be one more admin credential nobody asked for). */
  int admins = 0;
  if (store && kjs_store_tokens(st, 0, count_live_admin, &admins, &e)) {
    kjs_adm_error("%s", e.msg);
    kjs_store_close(st);
    return 1;
  }
  if (admins > 0) {
    printf("initialised '%s' on the existing store, which has %d admin token(s): "
           "no new one made ('kinerjad token list' shows them)\n",
           dir, admins);
    kjs_store_close(st);
    return 0;
  }
  char token[KJS_TOKEN_LEN + 1], id[32];
  unsigned char hash[32];
  int rc = 0;
  if (kjs_token_new(token, hash, &e) || kjs_token_id("tok-", id, sizeof id, &e) ||
      kjs_store_token_add(st, KJS_ROLE_ADMIN, id, NULL, "initial admin", hash, &e)) {
    kjs_adm_error("%s", e.msg);
    rc = 1;
  } else {
    printf("initialised '%s'\n", dir);
    printf("admin token: %s\n", token);
  }
  kjs_store_close(st);
  return rc;
}

static int is_loopback(const char *host) {
  return !strcmp(host, "127.0.0.1") || !strcmp(host, "::1") || !strcmp(host, "localhost");
}

static int cmd_serve(cmd_ctx *c) {
  if (kjs_adm_want_help(c->argc, c->argv)) {
    fputs("usage: kinerjad serve [--listen ADDR:PORT] [--plain-http] [--public-only]\n\n"
          "Serve HTTPS on ADDR:PORT (default: the config's listen, 127.0.0.1:8443).\n"
          "Port 0 picks a free port.  Prints 'listening on https://ADDR:PORT' when\n"
          "ready.  SIGTERM or SIGINT stop it cleanly.  --plain-http (tests only)\n"
          "serves plain HTTP on a loopback address.\n\n"
          "  --listen ADDR:PORT  address to listen on (default: 'listen' of\n"
          "                      kinerjad.conf, else 127.0.0.1:8443)\n"
          "  --plain-http        plain HTTP, loopback only (tests; default off)\n"
          "  --public-only       serve only the public IKM page /publik (no sign-in,\n"
          "                      no API): a second, read-only listener\n"
          "  --data DIR   data directory (default $KINERJAD_DATA, else ./kinerjad-data)\n"
          "\nexample: kinerjad --data /var/lib/kinerjad serve --listen 0.0.0.0:8443\n",
          stdout);
    return 0;
  }
  const char *listen = NULL;
  int plain = 0, public_only = 0;
  for (int i = 0; i < c->argc; i++) {
    if (!strcmp(c->argv[i], "--listen") && i + 1 < c->argc)
      listen = c->argv[++i];
    else if (!strcmp(c->argv[i], "--plain-http"))
      plain = 1;
    else if (!strcmp(c->argv[i], "--public-only"))
      public_only = 1;
    else {
      static const char *const known[] = {"--listen", "--plain-http", "--public-only", NULL};
      kjs_adm_bad_arg("serve", c->argv[i], known);
      return 1;
    }
  }
  kjs_store *st;
  if (open_dir(c, &st))
    return 1;
  kj_err e;
  kj_err_clear(&e);
  if (listen &&
      kjs_parse_listen(listen, c->cfg.net.host, sizeof c->cfg.net.host, &c->cfg.net.port, &e)) {
    kjs_adm_error("%s", e.msg);
    kjs_store_close(st);
    return 1;
  }
  if (plain && !is_loopback(c->cfg.net.host)) {
    kjs_adm_error("--plain-http is only allowed on a loopback address, not '%s'", c->cfg.net.host);
    kjs_store_close(st);
    return 1;
  }
  c->cfg.net.plain_http = plain;
  c->cfg.net.cert_file = c->cfg.cert_file;
  c->cfg.net.key_file = c->cfg.key_file;
  c->cfg.net.auth = kjs_app_auth;            /* the token at the headers (issue 15) */
  c->cfg.net.is_public = kjs_dash_is_public; /* the dashboard signs in by cookie */
  kjs_app app;
  kjs_app_init(&app, st, &c->cfg);
  if (kjs_dash_new(&app.dash, &app, public_only, &e)) {
    kjs_adm_error("%s", e.msg);
    kjs_store_close(st);
    return 1;
  }
  kj_code rc = kjh_server_serve(&c->cfg.net, kjs_app_handle, &app, &e);
  kjs_dash_free(app.dash);
  kjs_store_close(st);
  if (rc != 0) {
    kjs_adm_error("%s", e.msg[0] ? e.msg : "serve failed");
    return 1;
  }
  KJ_INFO("stopped");
  return 0;
}

/* ---------------------------------------------------------------------- */

static int cmd_device(cmd_ctx *c) {
  const char *sub = c->argc > 0 ? c->argv[0] : NULL;
  if (!sub || kjs_adm_want_help(c->argc, c->argv)) {
    fputs("usage: kinerjad device add --office CODE [--name TEXT]\n"
          "       kinerjad device list [--json]\n"
          "       kinerjad device revoke ID\n\n"
          "add prints the device's token once ('device token: TOKEN'); revoke takes\n"
          "effect at once, also while serve runs.\n\n"
          "  --office CODE  the device's office (add; required)\n"
          "  --name TEXT    a label, e.g. the PC (add; default none)\n"
          "  --json         one JSON array (list; default a table)\n"
          "  --data DIR   data directory (default $KINERJAD_DATA, else ./kinerjad-data)\n"
          "\nexample: kinerjad device add --office 36.73.01 --name \"PC front desk\"\n",
          sub ? stdout : stderr);
    return sub ? 0 : 1;
  }
  const char *office = NULL, *name = NULL, *id = NULL;
  int json = 0;
  for (int i = 1; i < c->argc; i++) {
    const char *a = c->argv[i];
    if (!strcmp(a, "--office") && i + 1 < c->argc)
      office = c->argv[++i];
    else if (!strcmp(a, "--name") && i + 1 < c->argc)
      name = c->argv[++i];
    else if (!strcmp(a, "--json"))
      json = 1;
    else if (a[0] != '-' && !id)
      id = a;
    else {
      static const char *const known[] = {"--office", "--name", "--json", NULL};
      char cmd[40];
      snprintf(cmd, sizeof cmd, "device %s", sub);
      kjs_adm_bad_arg(cmd, a, known);
      return 1;
    }
  }
  kj_err e;
  kj_err_clear(&e);
  if (!strcmp(sub, "add")) {
    if (!office || id) {
      kjs_adm_error(id ? "device add: unexpected argument '%s'"
                       : "device add: --office CODE is required%s",
                    id ? id : "");
      return 1;
    }
    if (kj_record_validate_id(KJ_T_OFFICE, office, &e)) {
      kjs_adm_error("bad office code '%s': %s", office, e.msg);
      return 1;
    }
    if (bad_label("device add", name))
      return 1;
    kjs_store *st;
    if (open_dir(c, &st))
      return 1;
    char *state = NULL;
    if (kjs_store_get_state(st, KJ_T_OFFICE, office, &state, &e) == KJ_ENOENT)
      err_line("kinerjad: warning: office '%s' is not in the master data (yet)", office);
    free(state);
    char token[KJS_TOKEN_LEN + 1], did[32];
    unsigned char hash[32];
    int rc = 0;
    if (kjs_token_new(token, hash, &e) || kjs_token_id("dev-", did, sizeof did, &e) ||
        kjs_store_token_add(st, KJS_ROLE_DEVICE, did, office, name, hash, &e)) {
      kjs_adm_error("%s", e.msg);
      rc = 1;
    } else {
      printf("device id: %s\n", did);
      printf("device token: %s\n", token);
      rc = kjs_admin_enrol_print(st, &c->cfg, did, token); /* admin_user.c */
    }
    kjs_store_close(st);
    return rc;
  }
  if (!strcmp(sub, "list")) {
    kjs_store *st;
    if (open_dir(c, &st))
      return 1;
    cJSON *arr;
    int rc = 0;
    if (kjs_store_token_list(st, 1, &arr, &e)) {
      kjs_adm_error("%s", e.msg);
      rc = 1;
    } else if (json) {
      char *t = cJSON_Print(arr);
      printf("%s\n", t ? t : "[]");
      free(t);
    } else {
      printf("%-14s %-14s %-8s %-20s %s\n", "ID", "OFFICE", "STATUS", "CREATED", "NAME");
      const cJSON *o;
      cJSON_ArrayForEach(o, arr) {
        char created[32];
        kjs_adm_time(cJSON_GetObjectItem(o, "created")->valuedouble, created, sizeof created);
        const cJSON *nm = cJSON_GetObjectItem(o, "name"), *of = cJSON_GetObjectItem(o, "office");
        /* names stored before labels were checked may hold anything */
        printf("%-14s %-14s %-8s %-20s ", cJSON_GetObjectItem(o, "id")->valuestring,
               cJSON_IsString(of) ? of->valuestring : "-",
               cJSON_IsNull(cJSON_GetObjectItem(o, "revoked")) ? "active" : "revoked", created);
        kj_term_fputs(cJSON_IsString(nm) ? nm->valuestring : "", stdout);
        putchar('\n');
      }
    }
    cJSON_Delete(arr);
    kjs_store_close(st);
    return rc;
  }
  if (!strcmp(sub, "revoke")) {
    if (!id) {
      kjs_adm_error("device revoke: which ID? (see 'kinerjad device list')");
      return 1;
    }
    kjs_store *st;
    if (open_dir(c, &st))
      return 1;
    int rc = 0;
    if (kjs_store_token_revoke(st, id, &e)) {
      kjs_adm_error("%s", e.msg);
      rc = 1;
    } else {
      printf("revoked %s\n", id);
    }
    kjs_store_close(st);
    return rc;
  }
  static const char *const subs[] = {"add", "list", "revoke"};
  kjs_adm_bad_word("device command", sub, subs, 3);
  return 1;
}

static int cmd_token(cmd_ctx *c) {
  const char *sub = c->argc > 0 ? c->argv[0] : NULL;
  if (sub && (!strcmp(sub, "list") || !strcmp(sub, "revoke")))
    return kjs_admin_token(&c->cfg, c->argc, c->argv); /* admin_user.c */
  if (!sub || kjs_adm_want_help(c->argc, c->argv)) {
    fputs("usage: kinerjad token add --role admin|viewer [--name TEXT]\n"
          "       kinerjad token list [--json]\n"
          "       kinerjad token revoke ID\n\n"
          "A token for people and scripts; printed once ('token: TOKEN').  Viewers\n"
          "read reports only.  'token list' shows every token; revoke with\n"
          "'kinerjad token revoke ID' (or 'device revoke ID').\n\n"
          "  --role admin|viewer  what the token may do (required)\n"
          "  --name TEXT          a label, e.g. the person (default none)\n"
          "  --data DIR   data directory (default $KINERJAD_DATA, else ./kinerjad-data)\n"
          "\nexample: kinerjad token add --role viewer --name analyst\n",
          sub ? stdout : stderr);
    return sub ? 0 : 1;
  }
  if (strcmp(sub, "add") != 0) {
    static const char *const subs[] = {"add", "list", "revoke"};
    kjs_adm_bad_word("token command", sub, subs, 3);
    return 1;
  }
  const char *role = NULL, *name = NULL;
  for (int i = 1; i < c->argc; i++) {
    if (!strcmp(c->argv[i], "--role") && i + 1 < c->argc)
      role = c->argv[++i];
    else if (!strcmp(c->argv[i], "--name") && i + 1 < c->argc)
      name = c->argv[++i];
    else {
      static const char *const known[] = {"--role", "--name", NULL};
      kjs_adm_bad_arg("token add", c->argv[i], known);
      return 1;
    }
  }
  kjs_role r = KJS_ROLE_DEVICE;
  if (kjs_role_parse(role, &r) || (r != KJS_ROLE_ADMIN && r != KJS_ROLE_VIEWER)) {
    kjs_adm_error("token add: --role must be admin or viewer");
    return 1;
  }
  if (bad_label("token add", name))
    return 1;
  kjs_store *st;
  if (open_dir(c, &st))
    return 1;
  kj_err e;
  kj_err_clear(&e);
  char token[KJS_TOKEN_LEN + 1], id[32];
  unsigned char hash[32];
  int rc = 0;
  if (kjs_token_new(token, hash, &e) || kjs_token_id("tok-", id, sizeof id, &e) ||
      kjs_store_token_add(st, (kjs_role)r, id, NULL, name, hash, &e)) {
    kjs_adm_error("%s", e.msg);
    rc = 1;
  } else {
    printf("token id: %s\n", id);
    printf("token: %s\n", token);
  }
  kjs_store_close(st);
  return rc;
}

/* ---------------------------------------------------------------------- */

typedef struct import_ctx {
  kjs_txn *txn;
  const char *fname;
  const kj_type_def *td;
  long long ahead_max_ms; /* clock_ahead_max */
  long created, updated, unchanged, bad;
  kj_code fatal;
  kj_err err;
} import_ctx;

static int import_row(void *ud, long line, kj_record *rec, const char *const *problems,
                      int nproblems) {
  import_ctx *ic = ud;
  if (!nproblems && !rec->id[0] && ic->td->master) {
    err_line("%s:%ld: field '%s': required", ic->fname, line, ic->td->id_name);
    ic->bad++;
    return 0;
  }
  if (nproblems) {
    for (int i = 0; i < nproblems; i++)
      err_line("%s:%ld: %s", ic->fname, line, problems[i]);
    ic->bad++;
    return 0;
  }
  char label[KJS_PATH_MAX + 32];
  snprintf(label, sizeof label, "%s:%ld", ic->fname, line);
  kjs_item it;
  memset(&it, 0, sizeof it);
  it.label = label;
  it.label_only = 1;
  it.diff_only = 1;
  it.seq = -1;
  kj_change_init(&it.ch, rec->type);
  kj_record_release(&it.ch.rec);
  if (kj_record_copy(&it.ch.rec, rec)) {
    kj_record_init(&it.ch.rec, rec->type);
    kj_change_release(&it.ch);
    ic->fatal = kj_fail(&ic->err, KJ_ENOMEM, "out of memory");
    return 1;
  }
  if (!it.ch.rec.id[0] && kj_uuid_v7(it.ch.rec.id)) {
    kj_change_release(&it.ch);
    ic->fatal = kj_fail(&ic->err, KJ_ECRYPTO, "cannot make an id");
    return 1;
  }
  char warn[600]; /* a survey's service as listed for its office, else a warning */
  if ((ic->fatal = kjs_txn_service_resolve(ic->txn, &it.ch.rec, warn, sizeof warn, &ic->err))) {
    kj_change_release(&it.ch);
    return 1;
  }
  if (warn[0])
    err_line("%s:%ld: warning: %s", ic->fname, line, warn);
  it.ch.mask = ic->td->nfields >= 32 ? 0xffffffffu : ((1u << ic->td->nfields) - 1u);
  /* after every stamp stored, never past this clock plus clock_ahead_max */
  if ((ic->fatal = kjs_txn_stamp(ic->txn, kj_wall_ms(), ic->ahead_max_ms, &it.ch.hlc, &ic->err))) {
    kj_change_release(&it.ch);
    return 1;
  }
  snprintf(it.ch.device, sizeof it.ch.device, "%s", KJS_SERVER_DEVICE);
  it.decoded = 1;
  kj_code rc = kjs_txn_apply(ic->txn, NULL, &it, &ic->err);
  kj_change_release(&it.ch);
  if (rc) {
    ic->fatal = rc;
    return 1;
  }
  if (it.status == KJS_REJECTED) {
    err_line("%s", it.error);
    ic->bad++;
  } else if (it.status == KJS_DUPLICATE) {
    ic->unchanged++;
  } else if (it.created) {
    ic->created++;
  } else {
    ic->updated++;
  }
  return 0;
}

/* ms since the epoch as local time "2026-11-30 09:12:05 WIB". */
static void import_time(int64_t ms, char *out, size_t n) {
  time_t t = (time_t)(ms / 1000);
  struct tm tm;
  if (!localtime_r(&t, &tm) || !strftime(out, n, "%Y-%m-%d %H:%M:%S %Z", &tm))
    snprintf(out, n, "%lld ms after the epoch", (long long)ms);
}

static int cmd_import(cmd_ctx *c) {
  if (kjs_adm_want_help(c->argc, c->argv)) {
    fputs("usage: kinerjad import TYPE FILE.csv [--strict] [--again]\n\n"
          "Load a CSV file of one record type (office, employee, indicator, service,\n"
          "survey, activity, complaint, rating, target; the columns are in\n"
          "docs/protocol.md \"Records\").  Valid rows are stored in one\n"
          "transaction as changes of device 'server': they merge like any push, update\n"
          "the scores and flow down to the offices.  Every bad row is reported as\n"
          "FILE:LINE: field 'x': ...; the exit status is 1 when any row was bad.\n"
          "Column names may be in any letter case; a file saved by a spreadsheet set to\n"
          "Indonesian is read too (a ';' separator, dates DD/MM/YYYY, decimal commas),\n"
          "and the import says which it saw (\"read as ';'-separated, ...\").  A file\n"
          "whose rows were imported before adds nothing: it says when, and exits 0.\n\n"
          "  --strict     all rows or none (default: store the valid rows)\n"
          "  --again      import a file again although its rows were imported before\n"
          "  --data DIR   data directory (default $KINERJAD_DATA, else ./kinerjad-data)\n"
          "\nexample: kinerjad import employee pegawai.csv --strict\n",
          stdout);
    return 0;
  }
  const char *tname = NULL, *file = NULL;
  int strict = 0, again = 0;
  for (int i = 0; i < c->argc; i++) {
    if (!strcmp(c->argv[i], "--strict"))
      strict = 1;
    else if (!strcmp(c->argv[i], "--again"))
      again = 1;
    else if (c->argv[i][0] == '-' && c->argv[i][1]) {
      static const char *const known[] = {"--strict", "--again", NULL};
      kjs_adm_bad_arg("import", c->argv[i], known);
      return 1;
    } else if (!tname)
      tname = c->argv[i];
    else if (!file)
      file = c->argv[i];
    else {
      kjs_adm_error("import: unexpected argument '%s'", c->argv[i]);
      return 1;
    }
  }
  if (!tname || !file) {
    kjs_adm_error("usage: kinerjad import TYPE FILE.csv [--strict] [--again]");
    return 1;
  }
  const kj_type_def *td = kj_type_by_name(tname);
  if (!td) {
    kjs_adm_error("unknown record type '%s'", tname);
    return 1;
  }
  FILE *f = fopen(file, "r");
  if (!f) {
    kjs_adm_error("cannot open '%s': %s", file, strerror(errno));
    return 1;
  }
  kj_err e;
  kj_err_clear(&e);
  /* First look: the header, the spreadsheet variants and the rows' digest. */
  kj_csv_info info;
  if (kj_csv_read_info(f, file, td, NULL, NULL, NULL, &info, &e)) {
    kjs_adm_error("%s", e.msg);
    fclose(f);
    return 1;
  }
  char words[160];
  if (*kj_csv_info_describe(&info, words, sizeof words)) {
    kj_term_fputs(file, stdout);
    printf(": read as %s\n", words);
    fflush(stdout);
  }
  if (fseek(f, 0, SEEK_SET) != 0) {
    kjs_adm_error("cannot read '%s' again: %s", file, strerror(errno));
    fclose(f);
    return 1;
  }
  kjs_store *st;
  if (open_dir(c, &st)) {
    fclose(f);
    return 1;
  }
  import_ctx ic;
  memset(&ic, 0, sizeof ic);
  ic.fname = file;
  ic.td = td;
  ic.ahead_max_ms = c->cfg.clock_ahead_ms;
  kj_err_clear(&e);
  int rc = 1;
  if (kjs_txn_begin(st, &ic.txn, &e)) {
    kjs_adm_error("%s", e.msg);
    goto out;
  }
  if (!again) {
    int64_t at = 0;
    char *before = NULL;
    int seen = kjs_txn_import_seen(ic.txn, info.digest, &at, &before, &e);
    if (seen) {
      kjs_txn_rollback(ic.txn);
      if (seen < 0) {
        kjs_adm_error("%s", e.msg);
      } else {
        char when[64];
        import_time(at, when, sizeof when);
        err_line("kinerjad: warning: the rows of '%s' were imported before, on %s%s%s%s: "
                 "nothing added (--again imports them again)",
                 file, when, before ? " from '" : "", before ? before : "", before ? "'" : "");
        rc = 0;
      }
      free(before);
      goto out;
    }
  }
  kj_code r = kj_csv_read_info(f, file, td, NULL, import_row, &ic, &info, &e);
  if (ic.fatal) {
    kjs_txn_rollback(ic.txn);
    kjs_adm_error("%s: nothing imported", ic.err.msg);
    goto out;
  }
  if (r) {
    kjs_txn_rollback(ic.txn);
    kjs_adm_error("%s", e.msg);
    goto out;
  }
  if (strict && ic.bad) {
    kjs_txn_rollback(ic.txn);
    kjs_adm_error("%ld bad row%s in '%s': nothing imported (--strict)", ic.bad,
                  ic.bad == 1 ? "" : "s", file);
    goto out;
  }
  long rows = ic.created + ic.updated + ic.unchanged;
  if (rows > 0 && kjs_txn_import_note(ic.txn, info.digest, td->name, file, rows,
                                      (int64_t)time(NULL) * 1000, &e)) {
    kjs_txn_rollback(ic.txn);
    kjs_adm_error("%s: nothing imported", e.msg);
    goto out;
  }
  if (kjs_txn_commit(ic.txn, &e)) {
    kjs_adm_error("%s: nothing imported", e.msg);
    goto out;
  }
  /* the summary of kinerja's import (client/cmd_import.c), in the same
   * words: the rows stored, then new, updated, unchanged and bad */
  printf("imported %ld row%s from '", rows, rows == 1 ? "" : "s");
  kj_term_fputs(file, stdout);
  printf("': %ld new, %ld updated, %ld unchanged", ic.created, ic.updated, ic.unchanged);
  if (ic.bad)
    printf(", %ld bad (not imported)", ic.bad);
  printf("\n");
  fflush(stdout);
  /* the usual next step, the corrected file imported whole, would store
   * its new rows (those without an id get one now) a second time: its
   * digest differs, so it is not "imported before" */
  if (ic.bad && ic.created)
    err_line("kinerjad: warning: fix the %ld bad row%s and import only them, in a file of their "
             "own: importing all of '%s' again would store its %ld new row%s a second time",
             ic.bad, ic.bad == 1 ? "" : "s", file, ic.created, ic.created == 1 ? "" : "s");
  rc = ic.bad ? 1 : 0;
out:
  fclose(f);
  kjs_store_close(st);
  return rc;
}

/* The string member k of o, "" when absent or not a string. */
static const char *json_text(const cJSON *o, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsString(v) ? v->valuestring : "";
}

/* One side of a conflict for the table: 'value' (stamp), or (none) /
 * (not kept: why) (stamp), escaped with kj_term_fputs. */
static void put_conflict_value(const cJSON *o, const char *side) {
  char k[32];
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, side);
  snprintf(k, sizeof k, "%s_note", side);
  const char *note = json_text(o, k);
  if (cJSON_IsString(v)) {
    putchar('\'');
    kj_term_fputs(v->valuestring, stdout);
    putchar('\'');
  } else if (*note) {
    putchar('(');
    kj_term_fputs(note, stdout);
    putchar(')');
  } else {
    fputs("(none)", stdout);
  }
  /* (by AUTHOR at TIME ZONE, stamp HLC/DEVICE): the author is known for
   * values written since the history began (server schema 6) */
  fputs(" (", stdout);
  snprintf(k, sizeof k, "%s_author", side);
  if (*json_text(o, k)) {
    fputs("by ", stdout);
    kj_term_fputs(json_text(o, k), stdout);
    fputs(" ", stdout);
  }
  snprintf(k, sizeof k, "%s_time", side);
  if (*json_text(o, k))
    printf("at %s, ", json_text(o, k));
  snprintf(k, sizeof k, "%s_stamp", side);
  fputs("stamp ", stdout);
  kj_term_fputs(json_text(o, k), stdout);
  putchar(')');
}

static int cmd_history(cmd_ctx *c) {
  if (kjs_adm_want_help(c->argc, c->argv)) {
    fputs("usage: kinerjad history ID [--json]\n\n"
          "Every change the server applied to record ID, oldest first: when it was\n"
          "made (its stamp: the PC's clock as corrected at sync) in the local time\n"
          "of the record's office (WIB, WITA or WIT), its author (the person signed\n"
          "in at the office PC, 'operator' or 'admin'), the device, when the server\n"
          "received it if that was more than a minute later (a PC offline), and the\n"
          "fields it set.  Values are escaped (\\e, \\n, ...).\n\n"
          "  --json       one JSON array (default lines of text)\n"
          "  --data DIR   data directory (default $KINERJAD_DATA, else ./kinerjad-data)\n"
          "\nexample: kinerjad history 0190c2a4-7d1e-7b3a-9c41-2f0e5d6a7b8c\n",
          stdout);
    return 0;
  }
  int json = 0;
  const char *id = NULL;
  for (int i = 0; i < c->argc; i++) {
    if (!strcmp(c->argv[i], "--json"))
      json = 1;
    else if (c->argv[i][0] != '-' && !id)
      id = c->argv[i];
    else {
      static const char *const known[] = {"--json", NULL};
      kjs_adm_bad_arg("history", c->argv[i], known);
      return 1;
    }
  }
  if (!id) {
    kjs_adm_error("history: which record? (kinerjad history ID)");
    return 1;
  }
  kjs_store *st;
  if (open_dir(c, &st))
    return 1;
  kj_err e;
  kj_err_clear(&e);
  cJSON *arr;
  int rc = 0;
  if (kjs_store_history(st, id, &arr, &e)) {
    kjs_adm_error("%s", e.msg);
    rc = 1;
  } else if (json) {
    char *t = cJSON_Print(arr);
    printf("%s\n", t ? t : "[]");
    free(t);
  } else if (!cJSON_GetArraySize(arr)) {
    kjs_adm_error("history: no change of record '%s' here", id);
    rc = 1;
  } else {
    const cJSON *o;
    cJSON_ArrayForEach(o, arr) {
      /* the change's own time; when the server applied it later (a PC
       * that was offline), that too */
      printf("%s  %s by ", json_text(o, "made"), json_text(o, "type"));
      kj_term_fputs(json_text(o, "author"), stdout);
      fputs(" (", stdout);
      kj_term_fputs(json_text(o, "device"), stdout);
      double made = cJSON_GetNumberValue(cJSON_GetObjectItem(o, "made_at")),
             at = cJSON_GetNumberValue(cJSON_GetObjectItem(o, "at"));
      if (at - made > 60000 || made - at > 60000)
        printf(", received %s", json_text(o, "when"));
      fputs("):", stdout);
      const cJSON *ch = cJSON_GetObjectItem(o, "change"), *f = cJSON_GetObjectItem(ch, "f"), *v;
      if (cJSON_IsTrue(cJSON_GetObjectItem(ch, "del")))
        fputs(" deleted", stdout);
      cJSON_ArrayForEach(v, f) {
        printf(" %s=", v->string);
        kj_term_fputs(cJSON_IsString(v) ? v->valuestring : "(cleared)", stdout);
      }
      putchar('\n');
    }
  }
  cJSON_Delete(arr);
  kjs_store_close(st);
  return rc;
}

static int cmd_conflicts(cmd_ctx *c) {
  if (kjs_adm_want_help(c->argc, c->argv)) {
    fputs("usage: kinerjad conflicts [--json]\n\n"
          "Every value that lost to a concurrent write of another device, oldest first,\n"
          "with who wrote each side and when, in the local time of the record's office\n"
          "(WIB, WITA or WIT; the author is known for values written since server\n"
          "schema 6).\n"
          "Values are escaped (\\e, \\n, \\x07...); a value that was not valid for its\n"
          "field is not kept and shows why; at most the newest 64 per record.\n\n"
          "  --json       one JSON array (default a table)\n"
          "  --data DIR   data directory (default $KINERJAD_DATA, else ./kinerjad-data)\n"
          "\nexample: kinerjad conflicts --json\n",
          stdout);
    return 0;
  }
  int json = 0;
  for (int i = 0; i < c->argc; i++) {
    if (!strcmp(c->argv[i], "--json"))
      json = 1;
    else {
      static const char *const known[] = {"--json", NULL};
      kjs_adm_bad_arg("conflicts", c->argv[i], known);
      return 1;
    }
  }
  kjs_store *st;
  if (open_dir(c, &st))
    return 1;
  kj_err e;
  kj_err_clear(&e);
  cJSON *arr;
  int rc = 0;
  if (kjs_store_conflicts(st, &arr, &e)) {
    kjs_adm_error("%s", e.msg);
    rc = 1;
  } else if (json) {
    char *t = cJSON_Print(arr);
    printf("%s\n", t ? t : "[]");
    free(t);
  } else {
    const cJSON *o;
    int n = 0;
    cJSON_ArrayForEach(o, arr) {
      printf("%s  %s ", json_text(o, "when"), cJSON_GetObjectItem(o, "type")->valuestring);
      /* every value comes from a device: escaped, never raw on the terminal */
      kj_term_fputs(json_text(o, "id"), stdout);
      fputs(" field '", stdout);
      kj_term_fputs(json_text(o, "field"), stdout);
      fputs("': kept ", stdout);
      put_conflict_value(o, "winner");
      fputs(", overwrote ", stdout);
      put_conflict_value(o, "loser");
      putchar('\n');
      n++;
    }
    if (!n)
      printf("no conflicts\n");
  }
  cJSON_Delete(arr);
  kjs_store_close(st);
  return rc;
}

/* ---------------------------------------------------------------------- */
/* report and recompute: the scores module's (issue "Scores") */

static int cmd_report(cmd_ctx *c) {
  if (kjs_adm_want_help(c->argc, c->argv) || c->argc == 0) {
    fputs("usage: kinerjad report offices --period P [--as-of D] [--json|--csv]\n"
          "       kinerjad report employees --period P --office CODE [--json|--csv]\n\n"
          "The consolidated scores (docs/scoring.md).  P is a year (2026), a quarter\n"
          "(2026-Q3) or a month (2026-09).\n\n"
          "  --period P     the period (required)\n"
          "  --as-of D      offices: the day complaints are judged on (default today in\n"
          "                 the offices' time zone; offices in several zones: the\n"
          "                 westernmost's day, named in the header)\n"
          "  --office CODE  employees: the office (required)\n"
          "  --json, --csv  the document as JSON or CSV (default a readable table)\n"
          "  --data DIR   data directory (default $KINERJAD_DATA, else ./kinerjad-data)\n"
          "\nexample: kinerjad report offices --period 2026-Q3\n",
          c->argc ? stdout : stderr);
    return c->argc ? 0 : 1;
  }
  const char *what = c->argv[0], *period = NULL, *as_of = NULL, *office = NULL;
  const char *format = "table";
  for (int i = 1; i < c->argc; i++) {
    const char *a = c->argv[i];
    if (!strcmp(a, "--period") && i + 1 < c->argc)
      period = c->argv[++i];
    else if (!strcmp(a, "--as-of") && i + 1 < c->argc)
      as_of = c->argv[++i];
    else if (!strcmp(a, "--office") && i + 1 < c->argc)
      office = c->argv[++i];
    else if (!strcmp(a, "--json") || !strcmp(a, "--csv"))
      format = a + 2;
    else {
      static const char *const known[] = {"--period", "--as-of", "--office",
                                          "--json",   "--csv",   NULL};
      kjs_adm_bad_arg("report", a, known);
      return 1;
    }
  }
  int offices = !strcmp(what, "offices");
  if (!offices && strcmp(what, "employees") != 0) {
    static const char *const kinds[] = {"offices", "employees"};
    kjs_adm_bad_word("report", what, kinds, 2);
    return 1;
  }
  if (!period || (!offices && !office)) {
    kjs_adm_error(offices ? "report %s: --period is required"
                          : "report %s: --period and --office are required",
                  what);
    return 1;
  }
  kjs_store *st;
  if (open_dir(c, &st))
    return 1;
  kj_buf out;
  kj_buf_init(&out, KJ_BUF_UNLIMITED);
  kj_err e;
  kj_err_clear(&e);
  if (!offices) { /* a mistyped office is said, not an empty table */
    char *state = NULL;
    kj_code orc = kjs_store_get_state(st, KJ_T_OFFICE, office, &state, &e);
    free(state);
    if (orc) {
      if (orc == KJ_ENOENT)
        kjs_adm_error("report employees: no office '%s' (a typo? 'kinerjad export office' lists "
                      "the codes)",
                      office);
      else
        kjs_adm_error("report employees: cannot look up office '%s': %s", office, e.msg);
      kj_buf_release(&out);
      kjs_store_close(st);
      return 1;
    }
  }
  /* the default day is the offices' own (docs/scoring.md "The day of a
   * report"), not the server's: at 03:12 WIB on 1 December a server in UTC
   * is still on 30 November */
  char today[KJ_DATE_STRLEN + 1], shown[KJ_DATE_STRLEN + 8];
  int zone_off = 0, mixed = 0;
  const char *zone = NULL;
  kj_code rc = KJ_OK;
  if (offices && !as_of) {
    rc = kjs_store_offices_zone(st, &zone_off, &zone, &mixed, &e);
    kj_date_format(kj_today(zone_off), today);
    snprintf(shown, sizeof shown, mixed ? "%s %s" : "%s", today, zone);
  }
  if (!rc)
    rc = offices ? kjs_store_report_offices(st, period, as_of ? as_of : today, &out, &e)
                 : kjs_store_report_employees(st, period, office, &out, &e);
  /* --json: the encoder's text as the HTTP route sends it; table and CSV
   * print the decoded document (proto/report.h) */
  if (!rc && !strcmp(format, "json")) {
    if (fputs(kj_buf_str(&out), stdout) < 0)
      rc = kj_fail(&e, KJ_EIO, "cannot write the report");
  } else if (!rc && offices) {
    kj_report_offices d;
    if (!(rc = kj_report_offices_decode(out.data, out.len, &d, &e)) && mixed) {
      /* offices in several zones: the header names the zone of the day */
      int nomem = 0;
      char *s = kj_report_strdup(shown, &nomem);
      if (nomem) {
        rc = kj_fail(&e, KJ_ENOMEM, "out of memory");
      } else {
        free(d.as_of);
        d.as_of = s;
      }
    }
    if (!rc)
      rc = kj_report_print_offices(&d, format, stdout, &e);
    kj_report_offices_release(&d);
  } else if (!rc) {
    kj_report_employees d;
    if (!(rc = kj_report_employees_decode(out.data, out.len, &d, &e)))
      rc = kj_report_print_employees(&d, format, stdout, &e);
    kj_report_employees_release(&d);
  }
  if (rc)
    kjs_adm_error("%s", e.msg);
  kj_buf_release(&out);
  kjs_store_close(st);
  return rc ? 1 : 0;
}

static int cmd_backup(cmd_ctx *c) {
  if (kjs_adm_want_help(c->argc, c->argv)) {
    fputs("usage: kinerjad backup FILE\n\n"
          "Copy the server's database to FILE with SQLite's online backup, also\n"
          "while 'kinerjad serve' runs (pushes wait at most a moment).  FILE must\n"
          "not exist; the copy is checked with PRAGMA integrity_check, fsynced and\n"
          "only then gets its name (mode 0600).  The TLS key, certificate and\n"
          "kinerjad.conf are plain files in the data directory: copy them as well.\n\n"
          "  --data DIR   data directory (default $KINERJAD_DATA, else ./kinerjad-data)\n"
          "\nexample: kinerjad --data /var/lib/kinerjad backup /srv/backup/kinerjad.db\n",
          stdout);
    return 0;
  }
  if (c->argc != 1 || c->argv[0][0] == '-') {
    if (c->argc > 1 || (c->argc == 1 && c->argv[0][0] == '-'))
      kjs_adm_bad_arg("backup", c->argv[c->argc > 1 ? 1 : 0], NULL);
    else
      kjs_adm_error("backup: which file? (usage: kinerjad backup FILE)");
    return 1;
  }
  /* The store is not opened: that would wait for serve's write lock (the
   * schema check at open); the backup reads a committed snapshot. */
  kj_err e;
  kj_err_clear(&e);
  kj_code rc = kjs_config_load(&c->cfg, &e);
  if (rc) {
    if (rc == KJ_ENOENT)
      kjs_adm_error("no kinerjad data directory at '%s': run 'kinerjad init' first",
                    c->cfg.data_dir);
    else
      kjs_adm_error("%s", e.msg);
    return 1;
  }
  if (kjs_db_is_pg(c->cfg.db_file)) {
    kjs_adm_error("backup: the store is PostgreSQL: back it up with pg_dump or a base backup "
                  "(docs/operations.md)");
    return 1;
  }
  int pages = 0;
  if (kj_db_backup(c->cfg.db_file, c->argv[0], &pages, &e)) {
    kjs_adm_error("backup: %s", e.msg);
    return 1;
  }
  printf("backed up %d pages to %s\n", pages, c->argv[0]);
  return 0;
}

static int cmd_restore(cmd_ctx *c) {
  if (kjs_adm_want_help(c->argc, c->argv)) {
    fputs("usage: kinerjad restore FILE\n\n"
          "Put the backup FILE (made by 'kinerjad backup') in place of the server's\n"
          "database.  Stop 'kinerjad serve' first: restore refuses while any kinerjad\n"
          "process uses the data directory.  FILE is checked (integrity_check, a\n"
          "kinerjad database this kinerjad reads), copied beside the database, fsynced\n"
          "and renamed into place; the database it replaces is kept as\n"
          "kinerjad.db.before-restore.  The restored database starts a new epoch: at\n"
          "their next sync the devices re-send the changes it lacks and read again\n"
          "from a position it has.  Token revocations and new devices made after the\n"
          "backup are re-applied from kinerjad.db.tokens.\n\n"
          "  --data DIR   data directory (default $KINERJAD_DATA, else ./kinerjad-data)\n"
          "\nexample: systemctl stop kinerjad && kinerjad --data /var/lib/kinerjad restore "
          "/srv/backup/kinerjad.db\n",
          stdout);
    return 0;
  }
  if (c->argc != 1 || c->argv[0][0] == '-') {
    if (c->argc > 1 || (c->argc == 1 && c->argv[0][0] == '-'))
      kjs_adm_bad_arg("restore", c->argv[c->argc > 1 ? 1 : 0], NULL);
    else
      kjs_adm_error("restore: which file? (usage: kinerjad restore FILE)");
    return 1;
  }
  kj_err e;
  kj_err_clear(&e);
  kj_code rc = kjs_config_load(&c->cfg, &e);
  if (rc) {
    if (rc == KJ_ENOENT)
      kjs_adm_error("no kinerjad data directory at '%s': run 'kinerjad init' first",
                    c->cfg.data_dir);
    else
      kjs_adm_error("%s", e.msg);
    return 1;
  }
  kjs_open_info in;
  if (kjs_store_restore(c->cfg.db_file, c->argv[0], &c->cfg, &in, &e)) {
    kjs_adm_error("restore: %s", e.msg);
    return 1;
  }
  printf("restored %s: %lld records, positions up to %" PRId64, c->argv[0], in.records, in.max_seq);
  if (in.mark_seq >= 0)
    printf(" (the database it replaced had reached %lld)", (long long)in.mark_seq);
  printf("\nnew epoch %s after epoch %s: at their next sync the devices re-send the changes "
         "it lacks and read again from position %" PRId64 " or earlier\n",
         in.epoch, in.old_epoch, in.max_seq);
  if (in.tokens_reapplied)
    printf("re-applied %d token changes made after the backup (revocations, new devices)\n",
           in.tokens_reapplied);
  printf("the replaced database is kept as %s.before-restore\n", c->cfg.db_file);
  return 0;
}

static int cmd_recompute(cmd_ctx *c) {
  if (kjs_adm_want_help(c->argc, c->argv)) {
    fputs("usage: kinerjad recompute [--verify]\n\n"
          "Rebuild the score aggregates from the records; with --verify compare them\n"
          "with the maintained ones and exit 1 naming every difference.\n\n"
          "  --verify     compare only, change nothing (default: rebuild)\n"
          "  --data DIR   data directory (default $KINERJAD_DATA, else ./kinerjad-data)\n"
          "\nexample: kinerjad recompute --verify\n",
          stdout);
    return 0;
  }
  int verify = 0;
  for (int i = 0; i < c->argc; i++) {
    if (!strcmp(c->argv[i], "--verify"))
      verify = 1;
    else {
      static const char *const known[] = {"--verify", NULL};
      kjs_adm_bad_arg("recompute", c->argv[i], known);
      return 1;
    }
  }
  kjs_store *st;
  if (open_dir(c, &st))
    return 1;
  kj_buf diffs;
  kj_buf_init(&diffs, KJ_BUF_UNLIMITED);
  kj_err e;
  kj_err_clear(&e);
  int rc = 0;
  if (kjs_store_recompute(st, verify, &diffs, &e)) {
    kjs_adm_error("%s", e.msg);
    rc = 1;
  } else if (verify && diffs.len) {
    fwrite(kj_buf_str(&diffs), 1, diffs.len, stdout);
    rc = 1;
  } else {
    printf(verify ? "aggregates match the records\n" : "aggregates rebuilt\n");
  }
  kj_buf_release(&diffs);
  kjs_store_close(st);
  return rc;
}

/* ---------------------------------------------------------------------- */

/* issue 18's commands (admin_user.c, admin_export.c) */
static int cmd_user(cmd_ctx *c) {
  return kjs_admin_user(&c->cfg, c->argc, c->argv);
}
static int cmd_export(cmd_ctx *c) {
  return kjs_admin_export(&c->cfg, c->argc, c->argv);
}

int kjs_admin_main(int argc, char **argv) {
  kj_log_init("kinerjad");
  signal(SIGPIPE, SIG_IGN);
  const char *data = NULL;
  /* --data DIR anywhere on the line (before or after the command) */
  char **args = calloc((size_t)argc + 1, sizeof *args);
  int n = 0;
  if (!args) {
    kjs_adm_error("out of memory");
    return 1;
  }
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--data")) {
      if (i + 1 >= argc) {
        kjs_adm_error("--data needs a directory");
        free(args);
        return 1;
      }
      data = argv[++i];
    } else if (!strncmp(argv[i], "--data=", 7)) {
      data = argv[i] + 7;
    } else {
      args[n++] = argv[i];
    }
  }
  if (n == 0 || !strcmp(args[0], "--help") || !strcmp(args[0], "-h") || !strcmp(args[0], "help")) {
    fputs(usage_text, n ? stdout : stderr);
    free(args);
    return n ? 0 : 1;
  }
  if (!strcmp(args[0], "--version")) {
    printf("kinerjad %s\n", KJ_VERSION);
    free(args);
    return 0;
  }
  static const struct {
    const char *name;
    int (*fn)(cmd_ctx *c);
  } cmds[] = {{"init", cmd_init},       {"serve", cmd_serve},      {"device", cmd_device},
              {"token", cmd_token},     {"import", cmd_import},    {"conflicts", cmd_conflicts},
              {"history", cmd_history}, {"report", cmd_report},    {"recompute", cmd_recompute},
              {"backup", cmd_backup},   {"restore", cmd_restore},  {"user", cmd_user},
              {"export", cmd_export},   {"person", kjs_cmd_person}};
  int rc = -1;
  for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
    if (strcmp(args[0], cmds[i].name) != 0)
      continue;
    cmd_ctx c;
    kj_err e;
    kj_err_clear(&e);
    if (kjs_config_init(&c.cfg, data, &e)) {
      kjs_adm_error("%s", e.msg);
      rc = 1;
      break;
    }
    c.argc = n - 1;
    c.argv = args + 1;
    rc = cmds[i].fn(&c);
    kjs_config_release(&c.cfg);
    break;
  }
  if (rc == -1) {
    const char *names[sizeof cmds / sizeof cmds[0]];
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
      names[i] = cmds[i].name;
    kjs_adm_bad_word("command", args[0], names, sizeof cmds / sizeof cmds[0]);
    rc = 1;
  }
  free(args);
  return rc;
}
