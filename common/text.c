/* text.c - terminal escaping and CSV formula guards (see text.h). */
#include "text.h"

#include <stdlib.h>
#include <string.h>

int kj_utf8_next(const unsigned char *p, unsigned *cp_out) {
  unsigned c = p[0], cp;
  int more;
  if (c < 0x80) {
    *cp_out = c;
    return 1;
  } else if (c >= 0xc2 && c <= 0xdf) {
    more = 1;
    cp = c & 0x1f;
  } else if (c >= 0xe0 && c <= 0xef) {
    more = 2;
    cp = c & 0x0f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    more = 3;
    cp = c & 0x07;
  } else {
    return 0;
  }
  for (int k = 1; k <= more; k++) {
    if ((p[k] & 0xc0) != 0x80)
      return 0;
    cp = (cp << 6) | (p[k] & 0x3f);
  }
  if ((more == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
      (more == 3 && (cp < 0x10000 || cp > 0x10ffff)))
    return 0;
  *cp_out = cp;
  return more + 1;
}

/* The escaped form of the character at p into esc (NUL-terminated, at most
 * 8 bytes); *adv gets how many input bytes it covers.  Returns 1 when it
 * is an escape, 0 when the bytes stand for themselves. */
static int escape_at(const unsigned char *p, char esc[8], int *adv) {
  unsigned cp;
  int n = kj_utf8_next(p, &cp);
  if (n == 0) {
    *adv = 1;
    snprintf(esc, 8, "\\x%02x", p[0]);
    return 1;
  }
  *adv = n;
  if (cp == '\\') {
    strcpy(esc, "\\\\");
    return 1;
  }
  if (cp >= 0x20 && cp != 0x7f && !(cp >= 0x80 && cp <= 0x9f))
    return 0;
  switch (cp) {
  case '\n':
    strcpy(esc, "\\n");
    break;
  case '\t':
    strcpy(esc, "\\t");
    break;
  case '\r':
    strcpy(esc, "\\r");
    break;
  case 0x1b:
    strcpy(esc, "\\e");
    break;
  default:
    snprintf(esc, 8, cp < 0x80 ? "\\x%02x" : "\\u%04x", cp);
  }
  return 1;
}

long kj_term_fputs(const char *s, FILE *out) {
  if (!s)
    return 0;
  const unsigned char *p = (const unsigned char *)s;
  long total = 0;
  while (*p) {
    /* the longest run that stands for itself goes out in one write */
    const unsigned char *run = p;
    char esc[8];
    int adv = 0, is_esc = 0;
    while (*p && !(is_esc = escape_at(p, esc, &adv)))
      p += adv;
    if (p > run) {
      size_t n = (size_t)(p - run);
      if (fwrite(run, 1, n, out) != n)
        return -1;
      total += (long)n;
    }
    if (*p && is_esc) {
      if (fputs(esc, out) == EOF)
        return -1;
      total += (long)strlen(esc);
      p += adv;
    }
  }
  return total;
}

size_t kj_term_escape(const char *s, char *out, size_t size) {
  size_t need = 0, used = 0;
  int full = 0;
  const unsigned char *p = (const unsigned char *)(s ? s : "");
  while (*p) {
    char esc[8];
    int adv = 0;
    const char *piece = esc;
    size_t n;
    if (escape_at(p, esc, &adv)) {
      n = strlen(esc);
    } else {
      piece = (const char *)p;
      n = (size_t)adv;
    }
    if (!full && size && used + n < size) {
      memcpy(out + used, piece, n);
      used += n;
    } else {
      full = 1;
    }
    need += n;
    p += adv;
  }
  if (size)
    out[used] = '\0';
  return need;
}

int kj_csv_formula_trigger(const char *s) {
  return s &&
         (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r');
}

const char *kj_csv_formula_unguard(const char *s) {
  return s && s[0] == '\'' && kj_csv_formula_trigger(s + 1) ? s + 1 : s;
}

char *kj_strndup(const char *s, size_t n) {
  size_t len = strnlen(s, n);
  char *d = malloc(len + 1);
  if (!d)
    return NULL;
  memcpy(d, s, len);
  d[len] = 0;
  return d;
}
