/* i18n_gettext.c - i18n.h's catalogue through glibc's libintl.
 *
 * glibc translates nothing while the locale of LC_MESSAGES is "C" (the
 * locale of a program that never calls setlocale, and of LANG unset, C or
 * POSIX), and otherwise only into the languages of that locale or of
 * $LANGUAGE; an id_ID locale is seldom installed.  So the catalogue is read
 * under a C.UTF-8 locale of our own (newlocale, made current for the
 * lookup only with uselocale: per thread, the global locale stays "C")
 * with $LANGUAGE=id, which glibc honours for any locale but "C".  The
 * text comes out as UTF-8 whatever the terminal's locale says
 * (bind_textdomain_codeset). */
#include <libintl.h>
#include <limits.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "i18n.h"

#ifndef KJ_LOCALEDIR
#define KJ_LOCALEDIR "/usr/local/share/locale"
#endif

static locale_t messages_locale;

/* 1 when DIR/id/LC_MESSAGES/kinerja.mo exists */
static int has_catalog(const char *dir) {
  char path[PATH_MAX + 64];
  struct stat sb;
  snprintf(path, sizeof path, "%s/id/LC_MESSAGES/" KJ_TEXTDOMAIN ".mo", dir);
  return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* the program's DIR/../share/locale into out: "" when unknown */
static void beside_program(char *out, size_t size) {
  char exe[PATH_MAX];
  out[0] = 0;
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0)
    return;
  exe[n] = 0;
  char *slash = strrchr(exe, '/');
  if (!slash)
    return;
  *slash = 0;
  snprintf(out, size, "%s/../share/locale", exe);
}

int kj__catalog_open(void) {
  char dir[PATH_MAX + 32];
  beside_program(dir, sizeof dir);
  if (!dir[0] || !has_catalog(dir)) {
    snprintf(dir, sizeof dir, "%s", KJ_LOCALEDIR);
    if (!has_catalog(dir))
      return -1;
  }
  messages_locale = newlocale(LC_MESSAGES_MASK, "C.UTF-8", (locale_t)0);
  if (!messages_locale)
    return -1;
  if (!bindtextdomain(KJ_TEXTDOMAIN, dir) || !bind_textdomain_codeset(KJ_TEXTDOMAIN, "UTF-8") ||
      setenv("LANGUAGE", "id", 1)) {
    freelocale(messages_locale);
    messages_locale = (locale_t)0;
    return -1;
  }
  return 0;
}

const char *kj__catalog_text(const char *one, const char *many, unsigned long n, int plural) {
  locale_t old = uselocale(messages_locale);
  const char *text = plural ? dngettext(KJ_TEXTDOMAIN, one, many, n) : dgettext(KJ_TEXTDOMAIN, one);
  uselocale(old);
  return text;
}
