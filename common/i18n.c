/* i18n.c - the language of `kinerja`'s messages (see i18n.h); the
 * catalogue itself is i18n_gettext.c (libintl, on Linux and Windows). */
#include "i18n.h"

#include <stdlib.h>
#include <string.h>

static kj_lang process_lang = KJ_LANG_EN; /* until kj_i18n_init */
static int catalog_ready;
static _Thread_local int thread_lang = -1;

int kj_lang_parse(const char *tag, int dflt) {
  if (!tag)
    return dflt;
  if ((tag[0] == 'e' || tag[0] == 'E') && (tag[1] == 'n' || tag[1] == 'N') &&
      (tag[2] == 0 || strchr("_-.@:", tag[2])))
    return KJ_LANG_EN;
  if ((tag[0] == 'i' || tag[0] == 'I') && (tag[1] == 'd' || tag[1] == 'D') &&
      (tag[2] == 0 || strchr("_-.@:", tag[2])))
    return KJ_LANG_ID;
  return dflt;
}

kj_lang kj_lang_from_env(void) {
  /* $LANGUAGE: "fr:en:id", the first one we have decides */
  const char *l = getenv("LANGUAGE");
  while (l && *l) {
    int k = kj_lang_parse(l, -1);
    if (k >= 0)
      return (kj_lang)k;
    l = strchr(l, ':');
    if (l)
      l++;
  }
  static const char *const vars[] = {"LC_ALL", "LC_MESSAGES", "LANG"};
  for (int i = 0; i < 3; i++) {
    const char *v = getenv(vars[i]);
    if (v && *v)
      return (kj_lang)kj_lang_parse(v, KJ_LANG_ID);
  }
  return KJ_LANG_ID;
}

kj_lang kj_i18n_init(void) {
  kj_lang want = kj_lang_from_env();
  /* opened whatever the process's language: `kinerja ui` may answer a
   * request in Indonesian when the PC's environment is English */
  catalog_ready = kj__catalog_open() == 0;
  process_lang = catalog_ready ? want : KJ_LANG_EN;
  return process_lang;
}

kj_lang kj_lang_current(void) {
  if (!catalog_ready)
    return KJ_LANG_EN;
  return thread_lang >= 0 ? (kj_lang)thread_lang : process_lang;
}

void kj_lang_set_thread(int lang) {
  thread_lang = lang == KJ_LANG_EN || lang == KJ_LANG_ID ? lang : -1;
}

const char *kj_gettext(const char *msgid) {
  if (kj_lang_current() == KJ_LANG_EN)
    return msgid;
  return kj__catalog_text(msgid, NULL, 0, 0);
}

const char *kj_ngettext(const char *one, const char *many, unsigned long n) {
  if (kj_lang_current() == KJ_LANG_EN)
    return n == 1 ? one : many;
  return kj__catalog_text(one, many, n, 1);
}
