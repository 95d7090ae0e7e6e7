/* test_zst.c - common/zst: zstd with the shared dictionary (proto/zdict.txt):
 * round trips, the dictionary's name, what the dictionary saves, and the
 * bounds that protect the server from bombs and false data. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/sha256.h>
#include <zstd.h>
#include <cmocka.h>

#include "gz.h"
#include "zst.h"

/* A push body of n surveys as kinerja sends it (proto/wire.c shapes). */
static void push_body(kj_buf *b, int n) {
  static const char *svc[] = {"KTP-el", "Kartu Keluarga", "Akta Kelahiran", "Surat Pindah"};
  kj_buf_adds(b, "{\"device_time\":1796031557209,\"protocol\":2,\"changes\":[");
  for (int i = 0; i < n; i++)
    kj_buf_addf(b,
                "%s{\"seq\":%d,\"id\":\"01a22bd2-b%03x-7%03x-9%03x-%012x\",\"type\":\"survey\","
                "\"hlc\":\"1177047240181%05d\",\"author\":\"operator\",\"f\":{\"office\":"
                "\"36.73.01\",\"date\":\"2026-11-%02d\",\"service\":\"%s\",\"u1\":\"%d\",\"u2\":"
                "\"%d\",\"u3\":\"3\",\"u4\":\"4\",\"u5\":\"%d\",\"u6\":\"3\",\"u7\":\"2\",\"u8\":"
                "\"3\",\"u9\":\"%d\",\"age\":\"%d\",\"sex\":\"%s\",\"education\":\"SMA\"}}",
                i ? "," : "", 100 + i, i * 37 % 4096, i * 91 % 4096, i * 53 % 4096,
                (unsigned)(i * 2654435761u), 67808 + i, 1 + i % 28, svc[i % 4], 1 + i % 4,
                1 + i * 7 % 4, 1 + i * 3 % 4, 1 + i * 5 % 4, 18 + i * 13 % 60, i % 3 ? "L" : "P");
  kj_buf_adds(b, "]}");
}

static void test_round_trip(void **state) {
  (void)state;
  kj_buf text, z, back;
  kj_buf_init(&text, KJ_BUF_UNLIMITED);
  kj_buf_init(&z, KJ_BUF_UNLIMITED);
  kj_buf_init(&back, KJ_BUF_UNLIMITED);
  push_body(&text, 1000); /* over several 64 KiB chunks */
  assert_true(text.len > 200000);
  assert_int_equal(kj_zst_compress(text.data, text.len, &z, NULL), KJ_OK);
  assert_true(z.len < text.len / 5);
  assert_int_equal(ZSTD_getFrameContentSize(z.data, z.len), text.len);
  assert_int_equal(kj_zst_decompress(z.data, z.len, &back, NULL), KJ_OK);
  assert_int_equal(back.len, text.len);
  assert_memory_equal(back.data, text.data, text.len);
  /* two frames one after the other: both, in order */
  size_t one = z.len;
  kj_buf_add(&z, z.data, one);
  kj_buf_reset(&back);
  assert_int_equal(kj_zst_decompress(z.data, z.len, &back, NULL), KJ_OK);
  assert_int_equal(back.len, 2 * text.len);
  assert_memory_equal(back.data + text.len, text.data, text.len);
  /* empty input is a valid frame of nothing */
  kj_buf_reset(&z);
  kj_buf_reset(&back);
  assert_int_equal(kj_zst_compress("", 0, &z, NULL), KJ_OK);
  assert_int_equal(kj_zst_decompress(z.data, z.len, &back, NULL), KJ_OK);
  assert_int_equal(back.len, 0);
  kj_buf_release(&text);
  kj_buf_release(&z);
  kj_buf_release(&back);
}

/* kj_zst_compress_level (the level for the link, client/net.c): every
 * level decodes to the same text; on a push of 1,000 surveys level 19
 * gives fewer bytes than 12, and 12 fewer than 1; a level out of range
 * is KJ_ZST_LEVEL (the same frame as kj_zst_compress). */
static void test_levels(void **state) {
  (void)state;
  kj_buf text, back;
  kj_buf_init(&text, KJ_BUF_UNLIMITED);
  kj_buf_init(&back, KJ_BUF_UNLIMITED);
  push_body(&text, 1000);
  static const int lv[] = {1, KJ_ZST_LEVEL, KJ_ZST_LEVEL_MAX};
  size_t len[3];
  for (int i = 0; i < 3; i++) {
    kj_buf z;
    kj_buf_init(&z, KJ_BUF_UNLIMITED);
    assert_int_equal(kj_zst_compress_level(text.data, text.len, lv[i], &z, NULL), KJ_OK);
    len[i] = z.len;
    kj_buf_reset(&back);
    assert_int_equal(kj_zst_decompress(z.data, z.len, &back, NULL), KJ_OK);
    assert_int_equal(back.len, text.len);
    assert_memory_equal(back.data, text.data, text.len);
    kj_buf_release(&z);
  }
  print_message("1,000 surveys: level 1 %zu B, %d %zu B, %d %zu B\n", len[0], KJ_ZST_LEVEL, len[1],
                KJ_ZST_LEVEL_MAX, len[2]);
  assert_true(len[2] < len[1] && len[1] < len[0]);
  kj_buf a, b;
  kj_buf_init(&a, KJ_BUF_UNLIMITED);
  kj_buf_init(&b, KJ_BUF_UNLIMITED);
  assert_int_equal(kj_zst_compress_level(text.data, text.len, 99, &a, NULL), KJ_OK);
  assert_int_equal(kj_zst_compress(text.data, text.len, &b, NULL), KJ_OK);
  assert_int_equal(a.len, b.len);
  assert_memory_equal(a.data, b.data, a.len);
  kj_buf_release(&a);
  kj_buf_release(&b);
  kj_buf_release(&text);
  kj_buf_release(&back);
}

/* The coding names the dictionary's bytes: "kjzstd-" and the first 16 hex
 * digits of their SHA-256, and those bytes are proto/zdict.txt. */
static void test_name(void **state) {
  (void)state;
  size_t n = 0;
  const unsigned char *d = kj_zst_dict(&n);
  assert_true(n > 1000);
  unsigned char sum[32];
  assert_int_equal(mbedtls_sha256_ret(d, n, sum, 0), 0);
  char want[40] = "kjzstd-";
  for (int i = 0; i < 8; i++)
    snprintf(want + 7 + 2 * i, 3, "%02x", sum[i]);
  assert_string_equal(kj_zst_coding(), want);
  FILE *f = fopen(KJ_ZDICT_TXT, "rb");
  assert_non_null(f);
  unsigned char *file = malloc(n + 1);
  assert_int_equal(fread(file, 1, n + 1, f), n);
  fclose(f);
  assert_memory_equal(file, d, n);
  free(file);
  assert_true(kj_zst_is_coding(want));
  want[0] = 'K'; /* tokens are case-insensitive */
  assert_true(kj_zst_is_coding(want));
  char spaced[48];
  snprintf(spaced, sizeof spaced, " %s ", want);
  assert_true(kj_zst_is_coding(spaced));
  assert_false(kj_zst_is_coding("gzip"));
  assert_false(kj_zst_is_coding("kjzstd-0000000000000000"));
  assert_false(kj_zst_is_coding("zstd"));
  assert_false(kj_zst_is_coding(NULL));
}

/* The dictionary is what makes a small body small: a push of a few
 * changes or a push answer is a fraction of its zstd size without it and
 * of its gzip size. */
static void test_dictionary_saves(void **state) {
  (void)state;
  const char *bodies[] = {
      NULL, /* a push of 5 surveys */
      "{\"results\":[{\"seq\":100,\"status\":\"applied\"},{\"seq\":101,\"status\":\"applied\"},"
      "{\"seq\":102,\"status\":\"duplicate\"},{\"seq\":103,\"status\":\"applied\"}],"
      "\"protocol\":2,\"server_time\":1796031557797}"};
  kj_buf five;
  kj_buf_init(&five, KJ_BUF_UNLIMITED);
  push_body(&five, 5);
  bodies[0] = five.data;
  for (int i = 0; i < 2; i++) {
    size_t len = strlen(bodies[i]);
    kj_buf z, g;
    kj_buf_init(&z, KJ_BUF_UNLIMITED);
    kj_buf_init(&g, KJ_BUF_UNLIMITED);
    assert_int_equal(kj_zst_compress(bodies[i], len, &z, NULL), KJ_OK);
    assert_int_equal(kj_gzip(bodies[i], len, &g, NULL), KJ_OK);
    size_t cap = ZSTD_compressBound(len);
    char *plain = malloc(cap);
    size_t pl = ZSTD_compress(plain, cap, bodies[i], len, KJ_ZST_LEVEL);
    assert_false(ZSTD_isError(pl));
    free(plain);
    print_message("body %d: %zu bytes, gzip %zu, zstd %zu, zstd with the dictionary %zu\n", i, len,
                  g.len, pl, z.len);
    assert_true(z.len * 10 < pl * 7);
    assert_true(z.len * 10 < g.len * 7);
    kj_buf_release(&z);
    kj_buf_release(&g);
  }
  kj_buf_release(&five);
}

static void test_bounds(void **state) {
  (void)state;
  size_t n = 8u << 20;
  char *zeros = calloc(1, n);
  kj_buf z, out;
  kj_buf_init(&z, KJ_BUF_UNLIMITED);
  assert_int_equal(kj_zst_compress(zeros, n, &z, NULL), KJ_OK);
  free(zeros);
  assert_true(z.len < 4096);
  kj_err err;
  kj_err_clear(&err);
  /* a bomb stops at the limit */
  kj_buf_init(&out, 1u << 20);
  assert_int_equal(kj_zst_decompress(z.data, z.len, &out, &err), KJ_ETOOBIG);
  assert_null(out.data); /* released */
  assert_string_equal(err.msg, "zstd body inflates past 1048576 bytes");
  /* exactly at the limit is fine */
  kj_buf_init(&out, n);
  assert_int_equal(kj_zst_decompress(z.data, z.len, &out, NULL), KJ_OK);
  assert_int_equal(out.len, n);
  kj_buf_release(&out);
  /* truncated data */
  kj_buf_init(&out, KJ_BUF_UNLIMITED);
  assert_int_equal(kj_zst_decompress(z.data, z.len - 5, &out, &err), KJ_EPROTO);
  assert_string_equal(err.msg, "bad zstd data");
  assert_null(out.data);
  /* not zstd at all, gzip, nothing */
  assert_int_equal(kj_zst_decompress("hello world", 11, &out, NULL), KJ_EPROTO);
  kj_buf g;
  kj_buf_init(&g, KJ_BUF_UNLIMITED);
  assert_int_equal(kj_gzip("hello world", 11, &g, NULL), KJ_OK);
  assert_int_equal(kj_zst_decompress(g.data, g.len, &out, NULL), KJ_EPROTO);
  kj_buf_release(&g);
  assert_int_equal(kj_zst_decompress("", 0, &out, &err), KJ_EPROTO);
  assert_string_equal(err.msg, "empty zstd data");
  /* trailing garbage after a frame */
  kj_buf bad;
  kj_buf_init(&bad, KJ_BUF_UNLIMITED);
  kj_buf_add(&bad, z.data, z.len);
  kj_buf_adds(&bad, "junk");
  assert_int_equal(kj_zst_decompress(bad.data, bad.len, &out, NULL), KJ_EPROTO);
  kj_buf_release(&bad);
  /* output is bounded too */
  kj_buf small;
  kj_buf_init(&small, 10);
  assert_int_equal(kj_zst_compress("some text that will not fit", 27, &small, &err), KJ_ETOOBIG);
  kj_buf_release(&small);
  kj_buf_release(&out);
  kj_buf_release(&z);
}

/* A frame made with another dictionary (here: the same text less its
 * last byte: references count back from its end, so each one into it is
 * off by one) is refused by its checksum, never taken as other text. */
static void test_other_dictionary(void **state) {
  (void)state;
  size_t n = 0;
  const unsigned char *d = kj_zst_dict(&n);
  kj_buf text;
  kj_buf_init(&text, KJ_BUF_UNLIMITED);
  push_body(&text, 3);
  ZSTD_CCtx *cc = ZSTD_createCCtx();
  assert_non_null(cc);
  assert_false(ZSTD_isError(ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, 1)));
  assert_false(ZSTD_isError(ZSTD_CCtx_refPrefix(cc, d, n - 1)));
  size_t cap = ZSTD_compressBound(text.len);
  char *z = malloc(cap);
  size_t zl = ZSTD_compress2(cc, z, cap, text.data, text.len);
  assert_false(ZSTD_isError(zl));
  ZSTD_freeCCtx(cc);
  kj_buf out;
  kj_buf_init(&out, KJ_BUF_UNLIMITED);
  kj_err err;
  kj_err_clear(&err);
  assert_int_equal(kj_zst_decompress(z, zl, &out, &err), KJ_EPROTO);
  assert_null(out.data);
  /* a frame of a window over 8 MiB is refused before anything is allocated */
  cc = ZSTD_createCCtx();
  assert_false(ZSTD_isError(ZSTD_CCtx_setParameter(cc, ZSTD_c_windowLog, 27)));
  assert_false(ZSTD_isError(ZSTD_CCtx_setParameter(cc, ZSTD_c_contentSizeFlag, 0)));
  ZSTD_inBuffer ib = {text.data, text.len, 0};
  ZSTD_outBuffer ob = {z, cap, 0};
  /* the size not known when the frame starts: its header keeps the window */
  size_t left = ZSTD_compressStream2(cc, &ob, &ib, ZSTD_e_continue);
  assert_false(ZSTD_isError(left));
  do
    left = ZSTD_compressStream2(cc, &ob, &ib, ZSTD_e_end);
  while (left > 0 && !ZSTD_isError(left));
  assert_int_equal(left, 0);
  assert_true(ob.pos > 8);
  ZSTD_freeCCtx(cc);
  /* zstd's own default (a window up to 128 MiB) reads it */
  char *plain = malloc(text.len + 1);
  assert_int_equal(ZSTD_decompress(plain, text.len + 1, z, ob.pos), text.len);
  free(plain);
  assert_int_equal(kj_zst_decompress(z, ob.pos, &out, &err), KJ_EPROTO);
  assert_string_equal(err.msg, "bad zstd data");
  free(z);
  kj_buf_release(&text);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_round_trip),       cmocka_unit_test(test_name),
      cmocka_unit_test(test_dictionary_saves), cmocka_unit_test(test_bounds),
      cmocka_unit_test(test_other_dictionary), cmocka_unit_test(test_levels),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
