/* hash.c - SHA-256 by OpenSSL's libcrypto (hash.h). */
#include "hash.h"

#include <pthread.h>

#include <mbedtls/sha256.h>
#include <openssl/evp.h>

/* the algorithm, fetched once (NULL: mbedTLS), and each thread's
 * EVP_MD_CTX, kept for its next digest (a new one per digest cost a tenth
 * of the digest); freed when the thread ends */
static EVP_MD *g_sha256;
static pthread_key_t g_ctx;
static int g_ctx_ok;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void ctx_free(void *ctx) {
  EVP_MD_CTX_free(ctx);
}

static void fetch(void) {
  g_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
  g_ctx_ok = pthread_key_create(&g_ctx, ctx_free) == 0;
}

void kjs_sha256(const void *data, size_t len, unsigned char out[32]) {
  pthread_once(&g_once, fetch);
  EVP_MD_CTX *ctx = g_ctx_ok ? pthread_getspecific(g_ctx) : NULL;
  if (g_sha256 && g_ctx_ok && !ctx && (ctx = EVP_MD_CTX_new()) &&
      pthread_setspecific(g_ctx, ctx) != 0) {
    EVP_MD_CTX_free(ctx);
    ctx = NULL;
  }
  unsigned int n = 0;
  if (ctx && EVP_DigestInit_ex2(ctx, g_sha256, NULL) == 1 &&
      EVP_DigestUpdate(ctx, data, len) == 1 && EVP_DigestFinal_ex(ctx, out, &n) == 1 && n == 32)
    return;
  mbedtls_sha256_ret((const unsigned char *)data, len, out, 0);
}
