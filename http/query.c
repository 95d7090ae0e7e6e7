/* query.c - name=value pairs of an URL query or an
 * application/x-www-form-urlencoded body (http.h: kjh_query_get). */
#include <string.h>

#include "http.h"

static int hexval(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

kj_code kjh_query_get(const char *query, const char *name, char *out, size_t size) {
  size_t nl = strlen(name);
  const char *p = query ? query : "";
  while (*p) {
    const char *amp = strchr(p, '&');
    size_t len = amp ? (size_t)(amp - p) : strlen(p);
    if (len >= nl && !strncmp(p, name, nl) && (len == nl || p[nl] == '=')) {
      const char *v = len == nl ? p + len : p + nl + 1;
      const char *end = p + len;
      size_t o = 0;
      while (v < end) {
        char c = *v++;
        if (c == '+')
          c = ' ';
        else if (c == '%') {
          int h = end - v >= 2 ? hexval(v[0]) : -1, l = end - v >= 2 ? hexval(v[1]) : -1;
          if (h < 0 || l < 0)
            return KJ_EINVAL;
          c = (char)(h * 16 + l);
          v += 2;
        }
        if (c == 0 || o + 1 >= size)
          return KJ_EINVAL;
        out[o++] = c;
      }
      out[o] = 0;
      return KJ_OK;
    }
    p += len;
    if (*p == '&')
      p++;
  }
  return KJ_ENOENT;
}
