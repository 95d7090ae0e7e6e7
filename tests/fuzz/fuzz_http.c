/* fuzz_http.c - raw bytes through the server's real connection code
 * (kjh__net_feed: http-parser, limits, routing) and the real app handler
 * on a temp data dir.  "@TOK@" in the input becomes a device token of
 * office A, so the fuzzer reaches the authenticated routes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "log.h"
#include "net_int.h"
#include "server/test_app_util.h"

static tapp *g_app;

static void cleanup(void) {
  tapp_free(g_app);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!g_app) {
    kj_log_set_level(KJ_LOG_OFF);
    g_app = tapp_new();
    atexit(cleanup);
  }
  if (size > 1 << 16)
    return 0;
  /* substitute the token placeholder */
  size_t toklen = strlen(g_app->dev_a);
  char *in = malloc(size * (toklen + 1) / 5 + size + 1);
  size_t n = 0;
  for (size_t i = 0; i < size;) {
    if (i + 5 <= size && memcmp(data + i, "@TOK@", 5) == 0) {
      memcpy(in + n, g_app->dev_a, toklen);
      n += toklen;
      i += 5;
    } else {
      in[n++] = (char)data[i++];
    }
  }
  kjh_config cfg;
  kjh_config_defaults(&cfg);
  cfg.plain_http = 1;
  cfg.max_body = 1 << 16;
  kj_buf out;
  kj_buf_init(&out, KJ_BUF_UNLIMITED);
  if (kjh__net_feed(&cfg, kjs_app_handle, &g_app->app, in, n, &out, NULL) != KJ_OK)
    abort();
  /* every answer is an HTTP/1.1 response (or nothing, for a bare EOF) */
  if (out.len && strncmp(kj_buf_str(&out), "HTTP/1.1 ", 9) != 0)
    abort();
  kj_buf_release(&out);
  free(in);
  return 0;
}
