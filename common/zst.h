/* zst.h - zstd with kinerja's shared dictionary (libzstd), into bounded
 * buffers: the content coding both peers use once hello has named the
 * same dictionary (docs/protocol.md "Compression").
 *
 * The dictionary is proto/zdict.txt, compiled in byte for byte (the build
 * generates zdict_data.c from it) and used as raw content: a prefix every
 * frame may refer to (ZSTD_CCtx_refPrefix / ZSTD_DCtx_refPrefix).  It is
 * named by the first 16 hex digits of its SHA-256, so two programs agree
 * on the coding only when they hold the very same bytes.
 */
#ifndef KJ_ZST_H
#define KJ_ZST_H

#include <stddef.h>

#include "buf.h"
#include "err.h"

/* The content-coding token of this program's dictionary, as it goes in
 * Content-Encoding, Accept-Encoding and hello's "encodings":
 * "kjzstd-" and 16 lowercase hex digits (the dictionary's SHA-256 prefix).
 * A static string. */
const char *kj_zst_coding(void);

/* The dictionary itself: *len bytes (static, never freed). */
const unsigned char *kj_zst_dict(size_t *len);

/* 1 when value (a header value, one token, any case, surrounding blanks
 * ignored) names this program's dictionary coding. */
int kj_zst_is_coding(const char *value);

/* Compress in[0..len) as one zstd frame with the dictionary (level
 * KJ_ZST_LEVEL, content size and a 4-byte checksum of the content in the
 * frame: a raw dictionary leaves no id in the frame, so the checksum is
 * what tells a frame made with another dictionary) and append it to out.  KJ_ETOOBIG when out->max
 * would be passed (out is released then), KJ_ENOMEM. */
kj_code kj_zst_compress(const void *in, size_t len, kj_buf *out, kj_err *err);

/* The same at zstd level `level` (1..KJ_ZST_LEVEL_MAX; another value is
 * KJ_ZST_LEVEL): what a client picks for the speed of its link
 * (client/net.c, docs/protocol.md "Compression"); any level is read by
 * kj_zst_decompress alike (the window stays within the input: the
 * content size is in the frame).  The small tables of
 * KJ_ZST_SMALL_TABLES_FROM apply to KJ_ZST_LEVEL only. */
kj_code kj_zst_compress_level(const void *in, size_t len, int level, kj_buf *out, kj_err *err);

/* Decompress zstd data made with the dictionary (one or more frames) and
 * append it to out.  KJ_ETOOBIG when the result would pass out->max (a
 * bomb stops at the limit), KJ_EPROTO when the data is not a valid frame,
 * is truncated, was made with another dictionary (its checksum fails) or
 * asks for a window over 8 MiB.  On failure out is released. */
kj_code kj_zst_decompress(const void *in, size_t len, kj_buf *out, kj_err *err);

/* zstd level of kj_zst_compress.  On the week of one office (docs/
 * performance.md "Rural links": 3 push bodies, 670 KB of JSON, and 4
 * answers) gzip -6 gives 80,800 B; with the dictionary level 9 61,500 B in
 * 16 ms of CPU, 12 60,000 B in 27 ms, 15 58,900 B in 58 ms, 19 54,300 B in
 * 260 ms.  12: the client's cost stays under the server's time to apply a
 * batch, so the pipelined push hides it. */
#define KJ_ZST_LEVEL 12
#define KJ_ZST_LEVEL_MAX 19 /* the strongest kj_zst_compress_level takes */
/* From KJ_ZST_SMALL_TABLES_FROM bytes of input on, match tables smaller
 * than the level's own (for a 360 KB push body of 1,000 surveys level 12
 * takes 2^20 hash and 2^19 chain entries, cleared for every frame): 2^13
 * and 2^14 give fewer bytes (39.5 against 40.3 B per survey on 5 such
 * bodies) in 41 % of the CPU (docs/performance.md "Push throughput").
 * Smaller inputs (push answers, small pushes) keep the level's tables,
 * which zstd already sizes to them and which compress them a little
 * better.  No frame parameter changes: any decoder reads them as before. */
#define KJ_ZST_SMALL_TABLES_FROM ((size_t)128 << 10)
#define KJ_ZST_HASH_LOG 13
#define KJ_ZST_CHAIN_LOG 14

#endif
