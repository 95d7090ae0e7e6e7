/* cmd_ui.c - `kinerja ui [--listen ADDR:PORT]` (issue 17, a first step):
 * the office web app served by kj_http (the same connection code as
 * kinerjad), with the `sync --watch` loop in a thread of the same
 * process.  For now: a placeholder page, its style and script, Chart.js
 * and /healthz, plain HTTP on a loopback address only. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "assets.h"
#include "cli.h"
#include "http.h"

extern const kjh_assets kjc_ui_assets; /* client/ui/, by kjh_embed (client/CMakeLists.txt) */

static void ui_handle(void *app, const kjh_request *req, kjh_response *resp) {
  (void)app;
  if (kjh_asset_serve(&kjc_ui_assets, req, resp))
    return;
  resp->route = "other";
  resp->status = 404;
  kjh_security_headers(resp);
  kj_buf_addf(&resp->body, "{\"error\":\"no page here\"}\n");
}

static void ui_listening(void *app, const char *scheme, const char *host, int port) {
  (void)app;
  printf("open %s://%s:%d/ in a browser\n", scheme, host, port);
  fflush(stdout);
}

static void *sync_thread(void *arg) {
  kjc_sync_watch(arg, 60);
  return NULL;
}

static const char ui_help[] =
    "usage: kinerja ui [--listen ADDR:PORT]\n"
    "\n"
    "Serve the office web app and keep syncing in the background as\n"
    "'sync --watch' does, in one process.  Prints 'open http://ADDR:PORT/ in\n"
    "a browser' once it listens.  SIGTERM or SIGINT (Ctrl-C) stop it.\n"
    "For now the app is a placeholder page and serves plain HTTP on a\n"
    "loopback address only.\n"
    "\n"
    "  --listen ADDR:PORT  address to listen on (default 127.0.0.1:8080;\n"
    "                      port 0 picks a free port)\n"
    "  --db PATH           database file (default $KINERJA_DB, else ./kinerja.db)\n"
    "\n"
    "example: kinerja ui --listen 127.0.0.1:8080\n";

int kjc_cmd_ui(int argc, char **argv) {
  const char *listen = "127.0.0.1:8080";
  kjc_opt opts[] = {{"--listen", 1, &listen, NULL}, {NULL, 0, NULL, NULL}};
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
  static const kjh_metric_names names = {.prefix = "kinerja_ui"};
  cfg.plain_http = 1; /* HTTPS for the office network: not yet */
  cfg.metrics = &names;
  cfg.on_listen = ui_listening;
  kjc_store *s;
  if ((r = kjc_open(&s, KJC_OPEN_WRITE)))
    return r;
  if ((r = kjc_check_token_private(s))) {
    kjc_store_close(s);
    return r;
  }
  pthread_t t;
  if (pthread_create(&t, NULL, sync_thread, s) != 0) {
    kjc_error("cannot start the sync thread");
    kjc_store_close(s);
    return KJC_EXIT_FAIL;
  }
  kj_code rc = kjh_server_serve(&cfg, ui_handle, NULL, &err);
  kjc_sync_watch_stop();
  pthread_join(t, NULL);
  kjc_store_close(s);
  if (rc != KJ_OK) {
    kjc_error("%s", err.msg);
    return KJC_EXIT_FAIL;
  }
  return KJC_EXIT_OK;
}
