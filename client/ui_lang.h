/* ui_lang.h - the language of an office app request (`kinerja ui`): the
 * page says which it shows (web/office/i18n.js keeps it in the cookie
 * kj_lang, "id" or "en"), and the API answers, its messages from the C
 * rules included, in that language (common/i18n.h, per thread). */
#ifndef KJC_UI_LANG_H
#define KJC_UI_LANG_H

#include "http.h"
#include "i18n.h"

/* The language asked for by req's cookie kj_lang (RFC 6265 "name=value;
 * name=value"; the first kj_lang wins): KJ_LANG_EN for "en...", KJ_LANG_ID
 * for "id...", else -1 (no cookie or another value: the process's). */
int kjc_ui_request_lang(const kjh_request *req);

#endif
