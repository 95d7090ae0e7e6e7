#include "log.h"
#include "plat.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static const char *log_prog = "kinerja";
static kj_log_level log_level = KJ_LOG_INFO;
static const char *const level_names[] = {"debug", "info", "warn", "error", "off"};

kj_code kj_log_parse_level(const char *s, kj_log_level *out) {
  for (int i = 0; i <= KJ_LOG_OFF; i++)
    if (s && strcmp(s, level_names[i]) == 0) {
      *out = (kj_log_level)i;
      return KJ_OK;
    }
  return KJ_EINVAL;
}

void kj_log_init(const char *prog) {
  if (prog)
    log_prog = prog;
  kj_log_level l;
  if (kj_log_parse_level(getenv("KJ_LOG"), &l) == KJ_OK)
    log_level = l;
}

void kj_log_set_level(kj_log_level level) {
  log_level = level;
}
kj_log_level kj_log_get_level(void) {
  return log_level;
}

void kj_log(kj_log_level level, const char *fmt, ...) {
  if (level < log_level || level >= KJ_LOG_OFF)
    return;
  char line[2048];
  struct timeval tv;
  struct tm tm;
  gettimeofday(&tv, NULL);
  kj_time_utc(tv.tv_sec, &tm);
  int n = snprintf(line, sizeof(line),
                   "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s %s: ", tm.tm_year + 1900, tm.tm_mon + 1,
                   tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (long)(tv.tv_usec / 1000),
                   log_prog, level_names[level]);
  va_list ap;
  va_start(ap, fmt);
  if (n > 0 && (size_t)n < sizeof(line))
    vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
  va_end(ap);
  /* one write per line so concurrent threads do not interleave */
  fprintf(stderr, "%s\n", line);
}
