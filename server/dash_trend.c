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

static int zero_or_null(const cJSON *v) {
  return !cJSON_IsNumber(v) || v->valuedouble == 0;
}

int kjs_dash_mark_no_data(cJSON *doc) {
  cJSON *offices = cJSON_GetObjectItem(doc, "offices");
  if (!cJSON_IsArray(offices))
    return 0;
  int marked = 0;
  cJSON *o;
  cJSON_ArrayForEach(o, offices) {
    const cJSON *ikm = cJSON_GetObjectItem(o, "ikm"), *cp = cJSON_GetObjectItem(o, "complaints"),
                *em = cJSON_GetObjectItem(o, "employees");
    int data = !zero_or_null(cJSON_GetObjectItem(ikm, "n")) ||
               !zero_or_null(cJSON_GetObjectItem(cp, "received")) ||
               !zero_or_null(cJSON_GetObjectItem(o, "compliance")) ||
               cJSON_IsNumber(cJSON_GetObjectItem(em, "capaian_mean"));
    if (data)
      continue;
    cJSON_ReplaceItemInObject(o, "ikk", cJSON_CreateNull());
    cJSON_ReplaceItemInObject(o, "rank", cJSON_CreateNull());
    if (cJSON_GetObjectItem(o, "compliance"))
      cJSON_ReplaceItemInObject(o, "compliance", cJSON_CreateNull());
    if (!cJSON_GetObjectItem(o, "no_data"))
      cJSON_AddBoolToObject(o, "no_data", 1);
    marked++;
  }
  if (!marked)
    return 0;
  /* the ranked ones again 1..k in their rank order (the report's order
   * is by rank already, nulls last; kept as it is) */
  int n = cJSON_GetArraySize(offices), k = 0;
  for (int r = 1; r <= n; r++) {
    cJSON_ArrayForEach(o, offices) {
      const cJSON *rk = cJSON_GetObjectItem(o, "rank");
      if (cJSON_IsNumber(rk) && (int)rk->valuedouble == r) {
        cJSON_ReplaceItemInObject(o, "rank", cJSON_CreateNumber(++k));
        break;
      }
    }
  }
  return marked;
}
