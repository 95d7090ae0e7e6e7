/* assets.c - serving the files kjh_embed compiled in (assets.h). */
#include <string.h>

#include "assets.h"

const kjh_asset *kjh_asset_find(const kjh_assets *set, const char *path) {
  if (!set || !path)
    return NULL;
  for (size_t i = 0; i < set->n; i++)
    if (!strcmp(set->items[i].path, path))
      return &set->items[i];
  return NULL;
}

/* RFC 9110 8.8.3: entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE, etagc =
 * %x21 / %x23-7E / obs-text; If-None-Match = "*" / #entity-tag. */
int kjh_etag_match(const char *inm, const char *etag) {
  if (!inm || !etag)
    return 0;
  size_t elen = strlen(etag);
  const char *s = inm;
  for (;;) {
    while (*s == ' ' || *s == '\t' || *s == ',')
      s++;
    if (!*s)
      return 0;
    if (*s == '*') {
      s++;
      while (*s == ' ' || *s == '\t')
        s++;
      if (*s && *s != ',')
        return 0;
      return 1;
    }
    if (s[0] == 'W' && s[1] == '/')
      s += 2;
    if (*s != '"')
      return 0; /* malformed: match nothing */
    const char *e = s + 1;
    while (*e && *e != '"') {
      unsigned char ch = (unsigned char)*e;
      if (ch < 0x21 || ch == 0x7f)
        return 0;
      e++;
    }
    if (*e != '"')
      return 0;
    e++;
    if ((size_t)(e - s) == elen && !memcmp(s, etag, elen))
      return 1;
    s = e;
    while (*s == ' ' || *s == '\t')
      s++;
    if (*s && *s != ',')
      return 0;
  }
}

kj_code kjh_security_headers(kjh_response *resp) {
  kj_code rc;
  if ((rc = kjh_response_header(resp, "Content-Security-Policy",
                                "default-src 'self'; script-src 'self'; style-src 'self'; "
                                "img-src 'self' data:; object-src 'none'; base-uri 'none'; "
                                "form-action 'self'; frame-ancestors 'none'")) ||
      (rc = kjh_response_header(resp, "X-Content-Type-Options", "nosniff")) ||
      (rc = kjh_response_header(resp, "Referrer-Policy", "same-origin")) ||
      (rc = kjh_response_header(resp, "X-Frame-Options", "DENY")))
    return rc;
  return KJ_OK;
}

int kjh_asset_serve(const kjh_assets *set, const kjh_request *req, kjh_response *resp) {
  const kjh_asset *a = kjh_asset_find(set, req->path);
  if (!a)
    return 0;
  resp->route = a->path;
  resp->vary = 1;
  kj_code rc = kjh_security_headers(resp);
  if (!rc)
    rc = kjh_response_header(resp, "ETag", a->etag);
  if (!rc)
    rc = kjh_response_header(resp, "Cache-Control", "no-cache");
  kj_buf_reset(&resp->body);
  if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) {
    resp->status = 405;
    resp->content_type = "application/json";
    if (!rc)
      rc = kjh_response_header(resp, "Allow", "GET, HEAD");
    kj_buf_addf(&resp->body, "{\"error\":\"method %s not allowed: use GET\"}\n", req->method);
  } else if (kjh_etag_match(kjh_header(req, "If-None-Match"), a->etag)) {
    resp->status = 304;
    resp->content_type = a->content_type;
  } else {
    resp->status = 200;
    resp->content_type = a->content_type;
    if (a->gz && req->accept_gzip) {
      resp->encoded = 1;
      if (!rc)
        rc = kj_buf_add(&resp->body, a->gz, a->gz_len);
    } else if (!rc) {
      rc = kj_buf_add(&resp->body, a->data, a->len);
    }
  }
  if (rc) {
    resp->status = 500;
    resp->encoded = 0;
    resp->content_type = "application/json";
    kj_buf_reset(&resp->body);
    kj_buf_adds(&resp->body, "{\"error\":\"cannot send the file\"}\n");
  }
  return 1;
}
