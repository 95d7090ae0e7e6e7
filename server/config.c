/* config.c - the data directory and the `key = value` config file. */
#include "config.h"

#include "dash_trend.h"
#include "db.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static kj_code join(char *out, const char *dir, const char *name, kj_err *err) {
  int n;
  if (name[0] == '/')
    n = snprintf(out, KJS_PATH_MAX, "%s", name);
  else
    n = snprintf(out, KJS_PATH_MAX, "%s/%s", dir, name);
  if (n < 0 || n >= KJS_PATH_MAX)
    return kj_fail(err, KJ_EINVAL, "path too long: '%s'", name);
  return KJ_OK;
}

/* The network metrics' names (kj_http): kinerjad_..., pushes timed. */
static const kjh_metric_names metric_names = {
    .prefix = "kinerjad",
    .timed_route = "/v1/push",
    .timed_name = "push_duration_seconds",
    .timed_help = "Time to answer POST /v1/push.",
    .count_name = "push_records_applied_total",
    .count_help = "Records applied by pushes.",
};

kj_code kjs_config_init(kjs_config *c, const char *dir, kj_err *err) {
  memset(c, 0, sizeof *c);
  if (!dir || !*dir)
    dir = getenv("KINERJAD_DATA");
  if (!dir || !*dir)
    dir = "./kinerjad-data";
  if (strlen(dir) >= KJS_PATH_MAX - 32)
    return kj_fail(err, KJ_EINVAL, "data directory path too long");
  snprintf(c->data_dir, sizeof c->data_dir, "%s", dir);
  kjh_config_defaults(&c->net);
  c->net.metrics = &metric_names;
  snprintf(c->net.host, sizeof c->net.host, "127.0.0.1");
  c->net.port = KJS_DEFAULT_PORT;
  c->max_batch = KJS_MAX_BATCH;
  c->clock_ahead_ms = KJS_CLOCK_AHEAD_DEFAULT_S * 1000LL;
  c->trend_drop[0] = c->trend_drop[1] = 500; /* domain.md "Trends" */
  c->trend_drop[2] = c->trend_drop[3] = 2000;
  c->stale_days = 7;
  c->publik_exclude[0] = 0;
  kj_code rc;
  if ((rc = join(c->db_file, dir, "kinerjad.db", err)) ||
      (rc = join(c->conf_file, dir, "kinerjad.conf", err)) ||
      (rc = join(c->cert_file, dir, "cert.pem", err)) ||
      (rc = join(c->key_file, dir, "key.pem", err)))
    return rc;
  c->net.cert_file = c->cert_file;
  c->net.key_file = c->key_file;
  return KJ_OK;
}

void kjs_config_release(kjs_config *c) {
  if (!c)
    return;
  for (int i = 0; i < c->nscore; i++) {
    free(c->score_keys[i]);
    free(c->score_values[i]);
  }
  free(c->score_keys);
  free(c->score_values);
  c->score_keys = c->score_values = NULL;
  c->nscore = 0;
}

kj_code kjs_parse_listen(const char *s, char *host, size_t hostsz, int *port, kj_err *err) {
  return kjh_parse_listen(s, host, hostsz, port, err); /* http/net.c */
}

/* A whole number min..max from v into *out: KJ_OK, or KJ_EINVAL (no
 * message: the caller names the key). */
static kj_code parse_long(const char *v, long long min, long long max, long long *out) {
  char *end;
  errno = 0;
  long long x = strtoll(v, &end, 10);
  if (!*v || *end || errno || x < min || x > max)
    return KJ_EINVAL;
  *out = x;
  return KJ_OK;
}

static char *trim(char *s) {
  while (isspace((unsigned char)*s))
    s++;
  size_t n = strlen(s);
  while (n && isspace((unsigned char)s[n - 1]))
    s[--n] = 0;
  return s;
}

static kj_code set_key(kjs_config *c, const char *k, const char *v, kj_err *err) {
  long long x;
  if (!strcmp(k, "listen"))
    return kjs_parse_listen(v, c->net.host, sizeof c->net.host, &c->net.port, err);
  if (!strcmp(k, "store")) {
    /* a postgresql:// URL (issue 19: the records, devices, tokens, people,
     * scores and conflict log there; DIR keeps cert, key and this file),
     * else a database file, relative to the data directory */
    if (kjs_db_is_pg(v)) {
      if (strlen(v) >= sizeof c->db_file)
        return kj_fail(err, KJ_EINVAL, "'store' is too long");
      snprintf(c->db_file, sizeof c->db_file, "%s", v);
      return KJ_OK;
    }
    if (!strncmp(v, "postgres", 8))
      return kj_fail(err, KJ_EINVAL,
                     "'store' must be postgresql://USER@HOST/DB or a database file");
    return join(c->db_file, c->data_dir, v, err);
  }
  if (!strcmp(k, "cert"))
    return join(c->cert_file, c->data_dir, v, err);
  if (!strcmp(k, "key"))
    return join(c->key_file, c->data_dir, v, err);
  if (!strcmp(k, "max_body")) {
    if (parse_long(v, 1024, 1LL << 32, &x))
      return kj_fail(err, KJ_EINVAL, "'max_body' must be a byte count from 1024");
    c->net.max_body = (size_t)x;
    return KJ_OK;
  }
  if (!strcmp(k, "max_conns")) {
    if (parse_long(v, 1, 1000000, &x))
      return kj_fail(err, KJ_EINVAL, "'max_conns' must be a positive integer");
    c->net.max_conns = (int)x;
    return KJ_OK;
  }
  if (!strcmp(k, "max_anon_conns")) {
    if (parse_long(v, 1, 1000000, &x))
      return kj_fail(err, KJ_EINVAL, "'max_anon_conns' must be a positive integer");
    c->net.max_anon_conns = (int)x;
    return KJ_OK;
  }
  if (!strcmp(k, "max_handshakes")) {
    /* TLS handshakes in progress at once; the others wait their turn
     * (docs/operations.md "Configuration") */
    if (parse_long(v, 1, 100000, &x))
      return kj_fail(err, KJ_EINVAL, "'max_handshakes' must be a positive integer");
    c->net.max_handshakes = (int)x;
    return KJ_OK;
  }
  if (!strcmp(k, "handshake_timeout_ms")) {
    if (parse_long(v, 1, 86400000, &x))
      return kj_fail(err, KJ_EINVAL, "'handshake_timeout_ms' must be a positive integer");
    c->net.handshake_timeout_ms = (int)x;
    return KJ_OK;
  }
  if (!strcmp(k, "header_timeout_ms") || !strcmp(k, "idle_timeout_ms")) {
    if (parse_long(v, 1, 86400000, &x))
      return kj_fail(err, KJ_EINVAL, "'%s' must be a positive integer", k);
    if (k[0] == 'h')
      c->net.header_timeout_ms = (int)x;
    else
      c->net.idle_timeout_ms = (int)x;
    return KJ_OK;
  }
  if (!strcmp(k, "max_batch")) {
    if (parse_long(v, 1, 1000000, &x))
      return kj_fail(err, KJ_EINVAL, "'max_batch' must be a positive integer");
    c->max_batch = (int)x;
    return KJ_OK;
  }
  if (!strcmp(k, "clock_ahead_max")) {
    /* seconds; a day or so: a day of a PC clock's error is still tolerated */
    if (parse_long(v, 60, 366LL * 86400, &x))
      return kj_fail(err, KJ_EINVAL,
                     "'clock_ahead_max' must be seconds from 60 to 31622400 (366 days)");
    c->clock_ahead_ms = x * 1000;
    return KJ_OK;
  }
  static const char *const drops[] = {"trend.ikk_drop", "trend.ikm_drop", "trend.on_time_drop",
                                      "trend.compliance_drop"};
  for (int i = 0; i < 4; i++)
    if (!strcmp(k, drops[i])) {
      if (kjs_trend_parse_limit(v, &c->trend_drop[i]))
        return kj_fail(err, KJ_EINVAL, "'%s' must be points from 0 to 100 (e.g. 5.00)", k);
      return KJ_OK;
    }
  if (!strcmp(k, "dash.stale_days")) {
    if (parse_long(v, 1, 3660, &x))
      return kj_fail(err, KJ_EINVAL, "'dash.stale_days' must be days from 1 to 3660");
    c->stale_days = (int)x;
    return KJ_OK;
  }
  if (!strcmp(k, "publik.exclude")) {
    if (strlen(v) >= sizeof c->publik_exclude)
      return kj_fail(err, KJ_EINVAL, "'publik.exclude' is too long");
    snprintf(c->publik_exclude, sizeof c->publik_exclude, "%s", v);
    return KJ_OK;
  }
  if (!strncmp(k, "score.", 6)) {
    char **nk = realloc(c->score_keys, (size_t)(c->nscore + 1) * sizeof *nk);
    if (!nk)
      return kj_fail(err, KJ_ENOMEM, "out of memory");
    c->score_keys = nk;
    char **nv = realloc(c->score_values, (size_t)(c->nscore + 1) * sizeof *nv);
    if (!nv)
      return kj_fail(err, KJ_ENOMEM, "out of memory");
    c->score_values = nv;
    char *ks = strdup(k), *vs = strdup(v);
    if (!ks || !vs) {
      free(ks);
      free(vs);
      return kj_fail(err, KJ_ENOMEM, "out of memory");
    }
    c->score_keys[c->nscore] = ks;
    c->score_values[c->nscore] = vs;
    c->nscore++;
    return KJ_OK;
  }
  return kj_fail(err, KJ_EINVAL, "unknown key '%s'", k);
}

kj_code kjs_config_load(kjs_config *c, kj_err *err) {
  FILE *f = fopen(c->conf_file, "r");
  if (!f) {
    if (errno == ENOENT)
      return kj_fail(err, KJ_ENOENT, "cannot open '%s': %s", c->conf_file, strerror(errno));
    return kj_fail(err, KJ_EIO, "cannot open '%s': %s", c->conf_file, strerror(errno));
  }
  char line[4096];
  long lineno = 0;
  kj_code rc = KJ_OK;
  while (fgets(line, sizeof line, f)) {
    lineno++;
    char *hash = strchr(line, '#');
    if (hash)
      *hash = 0;
    char *s = trim(line);
    if (!*s)
      continue;
    char *eq = strchr(s, '=');
    if (!eq) {
      rc = kj_fail(err, KJ_EINVAL, "%s:%ld: expected 'key = value'", c->conf_file, lineno);
      break;
    }
    *eq = 0;
    char *k = trim(s), *v = trim(eq + 1);
    kj_err e;
    kj_err_clear(&e);
    if ((rc = set_key(c, k, v, &e)) != KJ_OK) {
      kj_fail(err, rc, "%s:%ld: %s", c->conf_file, lineno, e.msg);
      break;
    }
  }
  fclose(f);
  return rc;
}

const char *kjs_config_default_text(void) {
  return "# kinerjad configuration: `key = value`, `#` starts a comment.\n"
         "# Address to listen on; 0.0.0.0:8443 to serve the network.\n"
         "listen = 127.0.0.1:8443\n"
         "# TLS certificate and key (PEM); relative paths are in the data directory.\n"
         "cert = cert.pem\n"
         "key = key.pem\n"
         "# Largest request body in bytes, open connections, changes per push.\n"
         "max_body = 16777216\n"
         "max_conns = 4096\n"
         "# Of those, connections whose token is not checked yet (new, /healthz only).\n"
         "max_anon_conns = 1024\n"
         "# TLS handshakes in progress at once (the others wait their turn, their\n"
         "# clocks stopped) and the time one may take; then the request headers'.\n"
         "max_handshakes = 32\n"
         "handshake_timeout_ms = 10000\n"
         "header_timeout_ms = 10000\n"
         "max_batch = 5000\n"
         "# Seconds a change's stamp may be ahead of this server's clock; a change\n"
         "# stamped further ahead is refused for now (the PC stamps it again).\n"
         "clock_ahead_max = 86400\n"
         "# Score rules (see docs/operations.md), e.g.\n"
         "# score.holidays = 2026-01-01,2026-03-19\n";
}
