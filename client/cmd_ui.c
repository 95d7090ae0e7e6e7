/* cmd_ui.c - `kinerja ui [--listen ADDR:PORT]` (issue 17): the office web
 * app (client/ui_api.c, pages in web/office/) served by kj_http (the same
 * connection code as kinerjad), with the `sync --watch` loop in a thread
 * of the same process: plain HTTP on a loopback address, HTTPS on any other. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <uv.h> /* the system's socket headers (inet_pton), on Windows too */

#include "cli.h"
#include "http.h"
#include "i18n.h"
#include "log.h"
#include "passhash.h"
#include "plat.h"
#include "ui_api.h"

/* 1 when host is a loopback address (127.0.0.0/8, ::1, "localhost"). */
static int loopback_host(const char *host) {
  struct in_addr a4;
  struct in6_addr a6;
  if (!strcmp(host, "localhost"))
    return 1;
  if (inet_pton(AF_INET, host, &a4) == 1)
    return (ntohl(a4.s_addr) >> 24) == 127;
  if (inet_pton(AF_INET6, host, &a6) == 1)
    return IN6_IS_ADDR_LOOPBACK(&a6);
  return 0;
}

/* The PC's own certificate for HTTPS, next to the database (DB.ui-cert.pem,
 * DB.ui-key.pem with mode 0600), made at first use: a self-signed ECDSA
 * P-256 certificate for localhost, 127.0.0.1, host (unless a wildcard) and
 * this PC's host name (kjh_tls_make_cert). */
static int ui_certificate(const char *host, char *cert, char *key, size_t size) {
  snprintf(cert, size, "%s.ui-cert.pem", kjc_db_path());
  snprintf(key, size, "%s.ui-key.pem", kjc_db_path());
  struct stat st;
  if (stat(cert, &st) == 0 && stat(key, &st) == 0)
    return 0;
  const char *hosts[2];
  int n = 0;
  char name[256] = "";
  if (strcmp(host, "0.0.0.0") != 0 && strcmp(host, "::") != 0 && !loopback_host(host))
    hosts[n++] = host;
  if (gethostname(name, sizeof name - 1) == 0 && name[0] && strcmp(name, "localhost") != 0)
    hosts[n++] = name;
  kj_err err;
  kj_err_clear(&err);
  if (kjh_tls_make_cert(key, cert, "kinerja ui", hosts, n, &err)) {
    kjc_error(_("cannot make the certificate for HTTPS: %s"), err.msg);
    return KJC_EXIT_FAIL;
  }
  fprintf(stderr,
          _("kinerja: made the HTTPS certificate %s (install it on the tablets and phones "
            "that open the app)\n"),
          cert);
  return 0;
}

/* The first line of path (the operator's password), hashed into meta. */
static int set_operator_password(kjc_store *s, const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) {
    kjc_error(_("--operator-password-file: cannot read '%s'"), path);
    return KJC_EXIT_USAGE;
  }
  char pw[256];
  if (!fgets(pw, sizeof pw, f))
    pw[0] = 0;
  fclose(f);
  pw[strcspn(pw, "\r\n")] = 0;
  if (strlen(pw) < 8) {
    kjc_error(_("--operator-password-file: the password on the first line of '%s' needs 8 "
                "characters or more"),
              path);
    return KJC_EXIT_USAGE;
  }
  char hash[KJ_PASSHASH_MAX];
  kj_err err;
  kj_err_clear(&err);
  if (kj_pass_hash(pw, hash, sizeof hash, &err) ||
      kjc_meta_set(s, KJC_META_OPERATOR_HASH, hash, &err)) {
    kjc_error("%s", err.msg);
    return KJC_EXIT_FAIL;
  }
  memset(pw, 0, sizeof pw);
  return 0;
}

/* The kiosk's address as this server is reached: SCHEME://HOST:PORT/kiosk,
 * HOST the address listened on, or for a wildcard (0.0.0.0, [::]) the
 * PC's LAN address (its host name when it has none). */
static void kiosk_url(const char *scheme, const char *host, int port, char *out, size_t size) {
  char addr[256];
  snprintf(addr, sizeof addr, "%s", host);
  if (!strcmp(host, "0.0.0.0") || !strcmp(host, "[::]") || !strcmp(host, "::")) {
    if (kj_lan_ipv4(addr, sizeof addr) != 0 && gethostname(addr, sizeof addr - 1) != 0)
      snprintf(addr, sizeof addr, "localhost");
  }
  snprintf(out, size, "%s://%s:%d/kiosk", scheme, addr, port);
}

static void ui_listening(void *app, const char *scheme, const char *host, int port) {
  char url[512];
  kiosk_url(scheme, host, port, url, sizeof url);
  kjc_ui_set_kiosk_url(app, url);
  printf("open %s://%s:%d/ in a browser\n", scheme, host, port);
  fflush(stdout);
}

static void *sync_thread(void *arg) {
  kjc_sync_watch(arg, 60);
  return NULL;
}

static const char ui_help[] =
    N_("usage: kinerja ui [--listen ADDR:PORT] [--operator-password-file FILE]\n"
       "                  [--kiosk-pause SECONDS] [--https]\n"
       "\n"
       "Serve the office web app and keep syncing in the background as\n"
       "'sync --watch' does, in one process.  Prints 'open http://ADDR:PORT/ in\n"
       "a browser' once it listens.  SIGTERM or SIGINT (Ctrl-C) stop it.\n"
       "Employees sign in with NIP and PIN ('kinerja person setup'); the\n"
       "operator with the office's operator password.  /kiosk is the citizens'\n"
       "survey form (no sign-in).  A loopback address is served over plain\n"
       "HTTP, any other over HTTPS only, with this PC's own certificate made at\n"
       "first use next to the database (DB.ui-cert.pem).\n"
       "\n"
       "  --listen ADDR:PORT  address to listen on (default 127.0.0.1:8080;\n"
       "                      port 0 picks a free port)\n"
       "  --https             HTTPS on a loopback address too\n"
       "  --operator-password-file FILE  set the operator's password (8 or more\n"
       "                      characters, the first line of FILE; kept as an\n"
       "                      Argon2id hash in the database) before serving\n"
       "  --kiosk-pause SECONDS  least time between two kiosk surveys from one\n"
       "                      device (default 20; 0: no pause)\n"
       "  --db PATH           database file (default $KINERJA_DB, else ./kinerja.db)\n"
       "\n"
       "example: kinerja ui --listen 127.0.0.1:8080\n");

int kjc_cmd_ui(int argc, char **argv) {
  const char *listen = "127.0.0.1:8080", *pwfile = NULL, *pause = "20";
  int https = 0;
  kjc_opt opts[] = {{"--listen", 1, &listen, NULL},
                    {"--https", 0, NULL, &https},
                    {"--operator-password-file", 1, &pwfile, NULL},
                    {"--kiosk-pause", 1, &pause, NULL},
                    {NULL, 0, NULL, NULL}};
  char *pos[1];
  int npos, r = kjc_parse(argc, argv, opts, pos, 0, &npos, ui_help);
  if (r)
    return r < 0 ? 0 : r;
  kjh_config cfg;
  kjh_config_defaults(&cfg);
  kj_err err;
  kj_err_clear(&err);
  if (kjh_parse_listen(listen, cfg.host, sizeof cfg.host, &cfg.port, &err) != KJ_OK) {
    kjc_error("%s", err.msg);
    return KJC_EXIT_USAGE;
  }
  char *end;
  long pause_s = strtol(pause, &end, 10);
  if (*end || end == pause || pause_s < 0 || pause_s > 86400) {
    kjc_error(_("--kiosk-pause: '%s' is not a number of seconds (0-86400)"), pause);
    return KJC_EXIT_USAGE;
  }
  /* the console window is the operator's: the state lines and warnings,
   * not a line per request of the app (http/net.c logs those at info);
   * $KJ_LOG=info shows them (common/log.h) */
  if (!getenv("KJ_LOG"))
    kj_log_set_level(KJ_LOG_WARN);
  static const kjh_metric_names names = {.prefix = "kinerja_ui"};
  char cert[4096], key[4096];
  cfg.plain_http = !https && loopback_host(cfg.host);
  if (!cfg.plain_http) {
    if ((r = ui_certificate(cfg.host, cert, key, sizeof cert)))
      return r;
    cfg.cert_file = cert;
    cfg.key_file = key;
  }
  cfg.metrics = &names;
  cfg.on_listen = ui_listening;
  kjc_store *s;
  if ((r = kjc_open(&s, KJC_OPEN_WRITE)))
    return r;
  if ((r = kjc_check_token_private(s))) {
    kjc_store_close(s);
    return r;
  }
  if (pwfile && (r = set_operator_password(s, pwfile))) {
    kjc_store_close(s);
    return r;
  }
  /* the app's own connection: the sync thread keeps s */
  kjc_store *as;
  if ((r = kjc_open(&as, KJC_OPEN_WRITE))) {
    kjc_store_close(s);
    return r;
  }
  kjc_ui *ui;
  if (kjc_ui_new(&ui, as, pause_s * 1000, &err)) {
    kjc_error("%s", err.msg);
    kjc_store_close(as);
    kjc_store_close(s);
    return KJC_EXIT_FAIL;
  }
  pthread_t t;
  if (pthread_create(&t, NULL, sync_thread, s) != 0) {
    kjc_error(_("cannot start the sync thread"));
    kjc_ui_free(ui);
    kjc_store_close(as);
    kjc_store_close(s);
    return KJC_EXIT_FAIL;
  }
  kj_code rc = kjh_server_serve(&cfg, kjc_ui_handle, ui, &err);
  kjc_sync_watch_stop();
  pthread_join(t, NULL);
  kjc_ui_free(ui);
  kjc_store_close(as);
  kjc_store_close(s);
  if (rc != KJ_OK) {
    kjc_error("%s", err.msg);
    return KJC_EXIT_FAIL;
  }
  return KJC_EXIT_OK;
}
