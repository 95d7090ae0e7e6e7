/* dash_trend.c - month-to-month declines (dash_trend.h, domain.md "Trends"). */
#include "dash_trend.h"

#include <ctype.h>

#include "reportdoc.h"

const char *const kjs_trend_names[KJS_TM__COUNT] = {"ikk", "ikm", "on_time_rate", "compliance",
                                                    "capaian"};

void kjs_trend_limits_defaults(kjs_trend_limits *l) {
  l->drop[KJS_TM_IKK] = 500;
  l->drop[KJS_TM_IKM] = 500;
  l->drop[KJS_TM_ON_TIME] = 2000;
  l->drop[KJS_TM_COMPLIANCE] = 2000;
  l->drop[KJS_TM_CAPAIAN] = 0;
}

int kjs_trend_delta(const kjs_trend_month *months, size_t n, size_t m, int f, long long *delta) {
  if (m == 0 || m >= n || f < 0 || f >= KJS_TM__COUNT)
    return 0;
  long long prev = months[m - 1].v[f], cur = months[m].v[f];
  if (prev == KJ_RNULL || cur == KJ_RNULL)
    return 0;
  *delta = cur - prev;
  return 1;
}

int kjs_trend_declined(const kjs_trend_month *months, size_t n, size_t m, int f,
                       const kjs_trend_limits *l) {
  long long d;
  if (!kjs_trend_delta(months, n, m, f, &d) || l->drop[f] <= 0)
    return 0;
  return -d >= l->drop[f];
}

unsigned kjs_trend_flags(const kjs_trend_month *months, size_t n, size_t m,
                         const kjs_trend_limits *l) {
  unsigned flags = 0;
  for (int f = 0; f < KJS_TM__COUNT; f++)
    if (kjs_trend_declined(months, n, m, f, l))
      flags |= 1u << f;
  return flags;
}

int kjs_trend_parse_limit(const char *s, long long *out) {
  long long v = 0;
  int digits = 0, dec = -1;
  for (; *s; s++) {
    if (*s == '.' && dec < 0 && digits) {
      dec = 0;
    } else if (isdigit((unsigned char)*s)) {
      if (dec >= 2 || digits > 3)
        return -1;
      v = v * 10 + (*s - '0');
      if (dec >= 0)
        dec++;
      else
        digits++;
    } else {
      return -1;
    }
  }
  if (!digits || dec == 0)
    return -1;
  for (int i = dec < 0 ? 0 : dec; i < 2; i++)
    v *= 10;
  if (v > 10000)
    return -1;
  *out = v;
  return 0;
}
