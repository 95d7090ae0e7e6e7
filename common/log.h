/* log.h - levelled logging to stderr.  Never log tokens or secrets. */
#ifndef KJ_LOG_H
#define KJ_LOG_H

#include "err.h"

typedef enum { KJ_LOG_DEBUG, KJ_LOG_INFO, KJ_LOG_WARN, KJ_LOG_ERROR, KJ_LOG_OFF } kj_log_level;

/* Program name used as prefix ("kinerjad"), and the lowest level printed
 * (default KJ_LOG_INFO; $KJ_LOG=debug|info|warn|error|off overrides). */
void kj_log_init(const char *prog);
void kj_log_set_level(kj_log_level level);
kj_log_level kj_log_get_level(void);
/* Parse "debug", "info", ... into *out: KJ_OK, or KJ_EINVAL (no message)
 * when s is NULL or unknown. */
kj_code kj_log_parse_level(const char *s, kj_log_level *out);

void kj_log(kj_log_level level, const char *fmt, ...) KJ_PRINTF(2, 3);

#define KJ_DEBUG(...) kj_log(KJ_LOG_DEBUG, __VA_ARGS__)
#define KJ_INFO(...) kj_log(KJ_LOG_INFO, __VA_ARGS__)
#define KJ_WARN(...) kj_log(KJ_LOG_WARN, __VA_ARGS__)
#define KJ_ERROR(...) kj_log(KJ_LOG_ERROR, __VA_ARGS__)

#endif
