/* ui_lang.c - the language of an office app request (see ui_lang.h). */
#include "ui_lang.h"

#include <string.h>

int kjc_ui_request_lang(const kjh_request *req) {
  const char *p = kjh_header(req, "Cookie");
  while (p && *p) {
    p += strspn(p, " \t;");
    size_t n = strcspn(p, ";");
    if (n > 8 && !strncmp(p, "kj_lang=", 8)) {
      char tag[16];
      size_t len = n - 8 < sizeof tag - 1 ? n - 8 : sizeof tag - 1;
      memcpy(tag, p + 8, len);
      tag[len] = 0;
      return kj_lang_parse(tag, -1);
    }
    p += n;
  }
  return -1;
}
