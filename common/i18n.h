/* i18n.h - the words of `kinerja` in the user's language (gettext).
 *
 * Indonesian is the default of the office client (issue 17 point 6);
 * English when the environment asks for it (kj_lang_from_env).  Strings
 * are written in English in the code and marked:
 *
 *   _("text")             translated now (kj_gettext)
 *   N_("text")            marked for xgettext only (a table entry),
 *                         translated where it is printed: _(entry)
 *   P_("one", "many", n)  plural (kj_ngettext)
 *
 * xgettext collects them into po/kinerja.pot; po/id.po holds the
 * Indonesian, compiled by msgfmt at build time (po/CMakeLists.txt).
 *
 * Only `kinerja` calls kj_i18n_init: until then every function below
 * returns its English argument, so kinerjad (which links the same proto/
 * and common/ code) and the unit tests stay English, whatever their
 * environment.  The catalogue is that of text domain "kinerja", which no
 * other program binds.
 *
 * The language is chosen per process (kj_i18n_init) and may be overridden
 * per thread (kj_lang_set_thread): `kinerja ui` answers each request in
 * the language of its page on the thread pool thread that handles it.
 *
 * One implementation of the catalogue, i18n_gettext.c, for both systems:
 * glibc's libintl on Linux; on Windows GNU gettext's libintl, built static
 * from Debian's gettext source package by scripts/windows-deps, with the
 * catalogue installed beside kinerja.exe (docs/windows-port.md
 * "Indonesian").  The lookups are always Indonesian; how libintl is made
 * to find "id" differs per system (common/plat.h kj_messages_lang_init).
 */
#ifndef KJ_I18N_H
#define KJ_I18N_H

#define KJ_TEXTDOMAIN "kinerja"

typedef enum { KJ_LANG_EN = 0, KJ_LANG_ID = 1 } kj_lang;

#define _(msgid) kj_gettext(msgid)
#define N_(msgid) msgid
#define P_(one, many, n) kj_ngettext(one, many, n)

/* The language the environment asks for, in gettext's order: the first
 * entry of $LANGUAGE (a colon list) that is English or Indonesian, else the
 * first set of $LC_ALL, $LC_MESSAGES, $LANG: English when it starts with
 * "en" (en, en_US.UTF-8, en-GB), else Indonesian.  Unset, "C", "C.UTF-8",
 * "POSIX" or any other language: Indonesian. */
kj_lang kj_lang_from_env(void);

/* A language tag ("en", "en-GB", "id", "id_ID.UTF-8", or the first entry of
 * a $LANGUAGE list "en:fr"; may be NULL): KJ_LANG_EN or KJ_LANG_ID for
 * those, else dflt (e.g. -1: neither). */
int kj_lang_parse(const char *tag, int dflt);

/* Set up translation for this process in the language of the environment
 * (kj_lang_from_env) and return it.  Finds po/'s catalogue
 * id/LC_MESSAGES/kinerja.mo next to the program (DIR/../share/locale, the
 * build tree's and an installed prefix's layout; DIR/share/locale, the
 * Windows installer's), else in the configured install prefix
 * (KJ_LOCALEDIR, Linux only).  When the catalogue (or on Linux the C.UTF-8
 * locale) is missing, everything stays English (returns KJ_LANG_EN).  Call
 * once, in main, before any thread starts: it sets $LANGUAGE to "id" for
 * libintl's lookups (and on Windows $LC_ALL: plat.h); the C library's
 * global locale is left "C", so numbers, strerror and collation do not
 * change. */
kj_lang kj_i18n_init(void);

/* The language of this thread: the process's (kj_i18n_init), or the one
 * given by kj_lang_set_thread.  KJ_LANG_EN before kj_i18n_init. */
kj_lang kj_lang_current(void);

/* Use lang on the calling thread from now on (a request's language);
 * -1 goes back to the process's. */
void kj_lang_set_thread(int lang);

/* msgid in the calling thread's language: a string owned by the catalogue
 * (never freed), or msgid itself (English, or not translated). */
const char *kj_gettext(const char *msgid) __attribute__((format_arg(1)));
/* one or many (English, chosen by n == 1) in the thread's language, with
 * the plural rule of that language. */
const char *kj_ngettext(const char *one, const char *many, unsigned long n)
    __attribute__((format_arg(1))) __attribute__((format_arg(2)));

/* Implementation (i18n_gettext.c): open the catalogue of KJ_TEXTDOMAIN for
 * Indonesian; 0 on success.  Look one message up in Indonesian: the
 * catalogue's string, or one / many (by n) when it has none. */
int kj__catalog_open(void);
const char *kj__catalog_text(const char *one, const char *many, unsigned long n, int plural);

#endif
