/* admin_util.c - what the commands of admin_bkd.h share. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "admin_bkd.h"
#include "suggest.h"
#include "text.h"

void kjs_adm_error(const char *fmt, ...) {
  char msg[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  fputs("kinerjad: ", stderr);
  kj_term_fputs(msg, stderr);
  fputc('\n', stderr);
}

int kjs_adm_open(kjs_config *cfg, kjs_store **st) {
  kj_err e;
  kj_err_clear(&e);
  kj_code rc = kjs_config_load(cfg, &e);
  if (rc == KJ_ENOENT) {
    kjs_adm_error("no kinerjad data directory at '%s': run 'kinerjad init' first", cfg->data_dir);
    return 1;
  }
  if (!rc)
    rc = kjs_store_open(st, cfg->db_file, cfg, 0, &e);
  if (rc) {
    kjs_adm_error("%s", e.msg);
    return 1;
  }
  return 0;
}

int kjs_adm_want_help(int argc, char **argv) {
  for (int i = 0; i < argc; i++)
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
      return 1;
  return 0;
}

void kjs_adm_bad_arg(const char *cmd, const char *a, const char *const *known) {
  size_t n = 0;
  while (known && known[n])
    n++;
  for (size_t i = 0; i < n; i++)
    if (!strcmp(a, known[i])) {
      kjs_adm_error("%s: option '%s' needs a value", cmd, a);
      return;
    }
  const char *meant = a[0] == '-' ? kj_suggest(a, known, n) : NULL;
  if (meant)
    kjs_adm_error("%s: unknown option '%s' (did you mean '%s'?)", cmd, a, meant);
  else if (a[0] == '-')
    kjs_adm_error("%s: unknown option '%s' (see 'kinerjad %s --help')", cmd, a, cmd);
  else
    kjs_adm_error("%s: unexpected argument '%s' (see 'kinerjad %s --help')", cmd, a, cmd);
}

void kjs_adm_bad_word(const char *what, const char *a, const char *const *known, size_t n) {
  const char *meant = kj_suggest(a, known, n);
  if (meant)
    kjs_adm_error("unknown %s '%s' (did you mean '%s'?)", what, a, meant);
  else
    kjs_adm_error("unknown %s '%s' (see 'kinerjad --help')", what, a);
}

void kjs_adm_time(double ms, char *out, size_t size) {
  if (ms <= 0) {
    snprintf(out, size, "-");
    return;
  }
  time_t t = (time_t)(ms / 1000);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
