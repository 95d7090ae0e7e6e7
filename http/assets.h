/* assets.h - files compiled into the program at build time (pages,
 * scripts, styles, Chart.js) and served from the handler.
 *
 * The CMake function kjh_embed (http/KjhEmbed.cmake) runs the host tool
 * http/embed.c over a list of files and adds the generated C source, which
 * defines one `const kjh_assets NAME`, to a target.  Each asset has its
 * bytes, their gzip form (precompressed at build time with zlib), its
 * content type and an ETag (a SHA-256 prefix of the bytes).  Nothing is
 * read from disk or fetched at run time.
 */
#ifndef KJH_ASSETS_H
#define KJH_ASSETS_H

#include <stddef.h>

#include "http.h"

typedef struct kjh_asset {
  const char *path;         /* "/static/chart.min.js": the URL path */
  const char *content_type; /* "text/javascript; charset=utf-8" */
  const unsigned char *data;
  size_t len;
  const unsigned char *gz; /* the gzip form; NULL when it was not smaller */
  size_t gz_len;
  const char *etag; /* "\"sha256-<32 hex>\"", quotes included */
} kjh_asset;

typedef struct kjh_assets {
  const kjh_asset *items;
  size_t n;
} kjh_assets;

/* The asset at URL path (exact match), or NULL. */
const kjh_asset *kjh_asset_find(const kjh_assets *set, const char *path);

/* Whether an If-None-Match header value (a comma-separated list of entity
 * tags, W/ allowed, or "*") matches etag with the weak comparison of RFC
 * 9110 13.1.2.  A malformed list matches nothing. */
int kjh_etag_match(const char *if_none_match, const char *etag);

/* Add the headers every page needs (to resp->headers):
 * Content-Security-Policy (default-src 'self', no inline script, no
 * framing, forms post only to this origin), X-Content-Type-Options:
 * nosniff, Referrer-Policy: same-origin, X-Frame-Options: DENY.  KJ_OK or
 * the code of kjh_response_header. */
kj_code kjh_security_headers(kjh_response *resp);

/* Serve req from set when its path is an asset: 1 when it answered (GET
 * or HEAD: 200 with the bytes, gzip when the client accepts it, or 304
 * when If-None-Match matches the ETag; another method: 405 with Allow),
 * 0 when the path is not an asset (resp untouched).  Every answer carries
 * ETag, Cache-Control (no-cache: the browser keeps the bytes and asks with
 * If-None-Match each time; a new build has new ETags), Vary:
 * Accept-Encoding and the security headers.  A copy of the bytes goes
 * into resp->body (KJ_ETOOBIG or KJ_ENOMEM there: 500). */
int kjh_asset_serve(const kjh_assets *set, const kjh_request *req, kjh_response *resp);

#endif
