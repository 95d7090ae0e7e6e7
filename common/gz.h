/* gz.h - gzip and gunzip (zlib) into bounded buffers.
 *
 * Both append to `out` and respect out->max: a body from the network can
 * never inflate past its limit (a gzip bomb stops at the limit).
 */
#ifndef KJ_GZ_H
#define KJ_GZ_H

#include <stddef.h>

#include "buf.h"
#include "err.h"

/* Compress in[0..len) as one gzip member and append it to out.
 * KJ_ETOOBIG when out->max would be passed. */
kj_code kj_gzip(const void *in, size_t len, kj_buf *out, kj_err *err);

/* Decompress gzip data (one or more members) and append it to out.
 * KJ_ETOOBIG when the result would pass out->max, KJ_EPROTO when the data
 * is not valid gzip or is truncated.  On failure out is released. */
kj_code kj_gunzip(const void *in, size_t len, kj_buf *out, kj_err *err);

#endif
