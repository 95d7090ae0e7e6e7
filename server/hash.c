/* hash.c - SHA-256 by OpenSSL's libcrypto (hash.h). */
#include "hash.h"

#include <pthread.h>

#include <mbedtls/sha256.h>
#include <openssl/evp.h>

static EVP_MD *g_sha256; /* fetched once; NULL: mbedTLS */
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void fetch(void) {
  g_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
}

void kjs_sha256(const void *data, size_t len, unsigned char out[32]) {
  pthread_once(&g_once, fetch);
  unsigned int n = 0;
  if (g_sha256 && EVP_Digest(data, len, out, &n, g_sha256, NULL) == 1 && n == 32)
    return;
  mbedtls_sha256_ret((const unsigned char *)data, len, out, 0);
}
