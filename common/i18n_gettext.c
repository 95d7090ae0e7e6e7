/* i18n_gettext.c - i18n.h's catalogue through libintl: glibc's on Linux,
 * GNU gettext's own (a static library that scripts/windows-deps builds from
 * Debian's gettext source package) in kinerja.exe.
 *
 * The lookups here are always Indonesian: i18n.c answers English itself
 * (msgid) and asks the catalogue only for a thread whose language is
 * Indonesian, so `kinerja ui` can answer each request in its page's
 * language.  libintl picks its language from the environment and the
 * locale, which differ between the two systems; common/plat.h
 * (kj_messages_lang_*) makes it find "id" without changing the C library's
 * global locale ("C": numbers, strerror and collation stay as they are).
 * The text comes out as UTF-8 (the .mo file's, bind_textdomain_codeset),
 * whatever the terminal's locale says. */
#include <libintl.h>
#include <string.h>
#include <sys/stat.h>

#include "i18n.h"
#include "plat.h"

/* the configured install prefix's locale directory (common/CMakeLists.txt;
 * none on Windows, where only the program's folder counts) */
#ifndef KJ_LOCALEDIR
#define KJ_LOCALEDIR ""
#endif

#define DIR_MAX 4096

/* a then b into out[size]: 0, or -1 when they do not fit.  (No snprintf:
 * GNU libintl's libintl.h redefines the printf family.) */
static int join(char *out, size_t size, const char *a, const char *b) {
  if (strlen(a) + strlen(b) >= size)
    return -1;
  strcpy(out, a);
  strcat(out, b);
  return 0;
}

/* 1 when DIR/id/LC_MESSAGES/kinerja.mo is a file */
static int has_catalog(const char *dir) {
  char path[DIR_MAX + 64];
  struct stat sb;
  return join(path, sizeof path, dir, "/id/LC_MESSAGES/" KJ_TEXTDOMAIN ".mo") == 0 &&
         stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* The first directory holding the catalogue, into dir[DIR_MAX]: beside the
 * program, DIR/../share/locale (the build tree's and an installed prefix's
 * layout: build/client/kinerja, /usr/local/bin/kinerja) or DIR/share/locale
 * (the Windows installer's: kinerja.exe and share\locale in one folder,
 * dist/windows/kinerja.nsi), else KJ_LOCALEDIR.  0, or -1 when none has it. */
static int find_catalog(char dir[DIR_MAX]) {
  static const char *const beside[] = {"/../share/locale", "/share/locale"};
  char prog[DIR_MAX];
  if (kj_program_dir(prog, sizeof prog) == 0)
    for (size_t i = 0; i < sizeof beside / sizeof beside[0]; i++)
      if (join(dir, DIR_MAX, prog, beside[i]) == 0 && has_catalog(dir))
        return 0;
  if (KJ_LOCALEDIR[0] && join(dir, DIR_MAX, KJ_LOCALEDIR, "") == 0 && has_catalog(dir))
    return 0;
  return -1;
}

int kj__catalog_open(void) {
  char dir[DIR_MAX];
  if (find_catalog(dir) || kj_messages_lang_init("id"))
    return -1;
  if (!bindtextdomain(KJ_TEXTDOMAIN, dir) || !bind_textdomain_codeset(KJ_TEXTDOMAIN, "UTF-8"))
    return -1;
  return 0;
}

const char *kj__catalog_text(const char *one, const char *many, unsigned long n, int plural) {
  void *saved = kj_messages_lang_enter();
  const char *text = plural ? dngettext(KJ_TEXTDOMAIN, one, many, n) : dgettext(KJ_TEXTDOMAIN, one);
  kj_messages_lang_leave(saved);
  return text;
}
