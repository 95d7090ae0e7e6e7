#include "gz.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define GZ_CHUNK 65536u

/* zlib allocates through calloc/free of this file, so the allocation
 * failure test (tests/alloc, -Wl,--wrap=calloc) reaches its allocations. */
static voidpf gz_alloc(voidpf opaque, uInt items, uInt size) {
  (void)opaque;
  return calloc(items, size);
}

static void gz_free(voidpf opaque, voidpf p) {
  (void)opaque;
  free(p);
}

kj_code kj_gzip(const void *in, size_t len, kj_buf *out, kj_err *err) {
  z_stream zs;
  memset(&zs, 0, sizeof zs);
  zs.zalloc = gz_alloc;
  zs.zfree = gz_free;
  if (deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    return kj_fail(err, KJ_ENOMEM, "cannot start gzip");
  const unsigned char *p = in;
  size_t left = len;
  int zrc = Z_OK;
  kj_code rc = KJ_OK;
  do {
    if (zs.avail_in == 0 && left > 0) {
      uInt n = left > UINT_MAX / 2 ? UINT_MAX / 2 : (uInt)left;
      zs.next_in = (Bytef *)(uintptr_t)p;
      zs.avail_in = n;
      p += n;
      left -= n;
    }
    size_t room = out->max - out->len;
    size_t step = room < GZ_CHUNK ? room : GZ_CHUNK;
    rc = step ? kj_buf_reserve(out, step) : KJ_ETOOBIG;
    if (rc) {
      deflateEnd(&zs);
      kj_buf_release(out);
      return kj_fail(err, rc, rc == KJ_ETOOBIG ? "gzip output over %zu bytes" : "out of memory",
                     out->max);
    }
    zs.next_out = (Bytef *)out->data + out->len;
    zs.avail_out = (uInt)step;
    zrc = deflate(&zs, left == 0 ? Z_FINISH : Z_NO_FLUSH);
    out->len += step - zs.avail_out;
    out->data[out->len] = '\0';
  } while (zrc == Z_OK || zrc == Z_BUF_ERROR);
  deflateEnd(&zs);
  if (zrc != Z_STREAM_END)
    return kj_fail(err, KJ_EIO, "gzip failed (%d)", zrc);
  return KJ_OK;
}

kj_code kj_gunzip(const void *in, size_t len, kj_buf *out, kj_err *err) {
  z_stream zs;
  memset(&zs, 0, sizeof zs);
  zs.zalloc = gz_alloc;
  zs.zfree = gz_free;
  if (inflateInit2(&zs, 15 + 16) != Z_OK)
    return kj_fail(err, KJ_ENOMEM, "cannot start gunzip");
  const unsigned char *p = in;
  size_t left = len;
  kj_code rc = KJ_OK;
  int zrc = Z_OK;
  int ended = 0; /* a member ended and no more input followed */
  if (len == 0) {
    inflateEnd(&zs);
    kj_buf_release(out);
    return kj_fail(err, KJ_EPROTO, "empty gzip data");
  }
  for (;;) {
    if (zs.avail_in == 0 && left > 0) {
      uInt n = left > UINT_MAX / 2 ? UINT_MAX / 2 : (uInt)left;
      zs.next_in = (Bytef *)(uintptr_t)p;
      zs.avail_in = n;
      p += n;
      left -= n;
    }
    /* never reserve past max: the last step may be smaller than a chunk */
    size_t room = out->max - out->len;
    size_t step = room < GZ_CHUNK ? room : GZ_CHUNK;
    if (step == 0)
      step = 1; /* one more byte proves the output is too big */
    rc = kj_buf_reserve(out, step);
    if (rc) {
      inflateEnd(&zs);
      kj_buf_release(out);
      return kj_fail(err, rc,
                     rc == KJ_ETOOBIG ? "gzip body inflates past %zu bytes" : "out of memory",
                     out->max);
    }
    zs.next_out = (Bytef *)out->data + out->len;
    zs.avail_out = (uInt)step;
    zrc = inflate(&zs, Z_NO_FLUSH);
    out->len += step - zs.avail_out;
    out->data[out->len] = '\0';
    if (zrc == Z_STREAM_END) {
      if (zs.avail_in == 0 && left == 0) {
        ended = 1;
        break;
      }
      if (inflateReset(&zs) != Z_OK)
        break; /* another member follows */
      continue;
    }
    if (zrc == Z_BUF_ERROR && zs.avail_in == 0 && left == 0)
      break; /* truncated */
    if (zrc != Z_OK && zrc != Z_BUF_ERROR)
      break;
  }
  inflateEnd(&zs);
  if (!ended) {
    kj_buf_release(out);
    return kj_fail(err, KJ_EPROTO, "bad gzip data");
  }
  return KJ_OK;
}
