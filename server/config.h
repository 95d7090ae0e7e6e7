/* config.h - kinerjad's data directory and its config file.
 *
 * The data directory is --data DIR, else $KINERJAD_DATA, else
 * ./kinerjad-data.  It holds kinerjad.db, kinerjad.conf, key.pem and
 * cert.pem.  The config file is `key = value` lines; `#` starts a comment.
 * Keys: store (a postgresql:// URL, else the database file; default
 * DIR/kinerjad.db), listen, cert, key, max_body, max_conns, header_timeout_ms,
 * idle_timeout_ms, max_batch, clock_ahead_max, trend.ikk_drop, trend.ikm_drop,
 * trend.on_time_drop, trend.compliance_drop, dash.stale_days, publik.exclude,
 * and score.* (handed to the scores module).
 */
#ifndef KJS_CONFIG_H
#define KJS_CONFIG_H

#include <stddef.h>

#include "err.h"
#include "http.h"

#define KJS_PATH_MAX 4096
#define KJS_DEFAULT_PORT 8443
#define KJS_MAX_BATCH 5000
#define KJS_PULL_DEFAULT 500
#define KJS_PULL_MAX 5000
#define KJS_CLOCK_AHEAD_DEFAULT_S 86400 /* clock_ahead_max: one day */

typedef struct kjs_config {
  char data_dir[KJS_PATH_MAX];
  char db_file[KJS_PATH_MAX]; /* the store: a file, or a postgresql:// URL (`store`) */
  char conf_file[KJS_PATH_MAX];
  char cert_file[KJS_PATH_MAX];
  char key_file[KJS_PATH_MAX];
  kjh_config net; /* host/port from `listen`, limits */
  int max_batch;  /* largest push batch, changes */
  /* clock_ahead_max, in ms: a pushed stamp further ahead of this server's
   * clock is refused for now, and the server never stamps beyond its clock
   * plus this (docs/protocol.md "Clocks") */
  long long clock_ahead_ms;
  /* the BKD dashboard (server/dash.c): trend.*_drop in hundredths (IKK,
   * IKM, on_time_rate, compliance; domain.md "Trends"), dash.stale_days
   * (an office whose devices were all silent this long is listed as not
   * syncing), publik.exclude (office codes left off /publik, comma
   * separated) */
  long long trend_drop[4];
  int stale_days;
  char publik_exclude[1024];
  /* score.* lines, in file order, for the scores module */
  int nscore;
  char **score_keys;
  char **score_values;
} kjs_config;

/* Resolve the data directory (dir may be NULL) and set every path and default. */
kj_code kjs_config_init(kjs_config *c, const char *dir, kj_err *err);
void kjs_config_release(kjs_config *c);

/* Read c->conf_file; a missing file is KJ_ENOENT.  Errors name the line:
 * "kinerjad.conf:7: unknown key 'lisen'". */
kj_code kjs_config_load(kjs_config *c, kj_err *err);

/* "127.0.0.1:8443", "0.0.0.0:0", "[::1]:8443" into host and port. */
kj_code kjs_parse_listen(const char *s, char *host, size_t hostsz, int *port, kj_err *err);

/* The default config file text written by `kinerjad init`. */
const char *kjs_config_default_text(void);

#endif
