/* hash.h - SHA-256 for the push's hot path, by OpenSSL's libcrypto.
 *
 * kinerjad takes the digest of every pushed change (proto/msg.h
 * kj_change_digest_text, exactly once): mbedTLS 2.28's SHA-256 has no x86
 * acceleration and cost 24,000 instructions per change; OpenSSL's takes
 * about half as many without the CPU's SHA extensions and uses them when
 * present (docs/performance.md "Server cost per record").  libcrypto is in
 * kinerjad's process anyway (libpq links it); only the Linux server links
 * it, the client (built for Windows too) keeps mbedTLS.  The digest's
 * definition is the same: SHA-256 is SHA-256 (tests/server/test_hash.c
 * holds the two to each other). */
#ifndef KJS_HASH_H
#define KJS_HASH_H

#include <stddef.h>

/* The SHA-256 of len bytes at data into out (32 bytes).  By libcrypto's
 * EVP interface with the algorithm fetched once per process; when that
 * fails (no provider offers SHA-256) by mbedTLS.  Thread safe; never
 * fails.  Shape of proto/msg.h's kj_sha256_fn. */
void kjs_sha256(const void *data, size_t len, unsigned char out[32]);

#endif
