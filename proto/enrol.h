/* enrol.h - the enrolment code of `kinerjad device add` and `kinerja init
 * --enrol` (docs/protocol.md "Enrolment").
 *
 * A code is 15 bytes written as 25 symbols of Crockford's base32 in five
 * groups of five ("7K3QM-X2D9F-0HBRT-W4Y8N-C6PJA"):
 *   - 10 bytes (80 bits) of secret, from getrandom: what the PC proves it
 *     holds at POST /v1/enrol; the server keeps only a hash of it;
 *   - 5 bytes (40 bits): the first bytes of the SHA-256 of the server
 *     certificate's SubjectPublicKeyInfo (DER), the pin the PC checks the
 *     server against before it sends the secret;
 *   - one check symbol: the top 5 bits of SHA-256 of those 15 bytes, so a
 *     mistyped symbol is caught on the PC (31 in 32 typos) before anything
 *     is sent.
 * Reading is lenient as Crockford's alphabet intends: letters in either
 * case, O read as 0, I and L as 1, hyphens and spaces ignored. */
#ifndef KJ_ENROL_H
#define KJ_ENROL_H

#include <stddef.h>

#include "err.h"

#define KJ_ENROL_SECRET_LEN 10
#define KJ_ENROL_PIN_LEN 5
/* "XXXXX-XXXXX-XXXXX-XXXXX-XXXXX" and its NUL */
#define KJ_ENROL_CODE_SIZE 30
/* the secret as sent in "Authorization: Enrol HEX": 20 hex digits + NUL */
#define KJ_ENROL_HEX_SIZE (2 * KJ_ENROL_SECRET_LEN + 1)

/* The code of secret and pin into out (always succeeds). */
void kj_enrol_code_format(const unsigned char secret[KJ_ENROL_SECRET_LEN],
                          const unsigned char pin[KJ_ENROL_PIN_LEN], char out[KJ_ENROL_CODE_SIZE]);

/* A code as typed back into secret and pin: KJ_OK, or KJ_EINVAL with a
 * message that says what is wrong (a symbol that is not in the alphabet,
 * too few or too many symbols, a mistyped symbol). */
kj_code kj_enrol_code_parse(const char *text, unsigned char secret[KJ_ENROL_SECRET_LEN],
                            unsigned char pin[KJ_ENROL_PIN_LEN], kj_err *err);

/* The SHA-256 of the SubjectPublicKeyInfo (DER) of the first certificate
 * of pem (len bytes, NUL not needed) into out: the hash that curl's
 * CURLOPT_PINNEDPUBLICKEY "sha256//" and HPKP use.  KJ_EINVAL when pem
 * holds no certificate mbedTLS can read (err says so). */
kj_code kj_cert_spki_sha256(const char *pem, size_t len, unsigned char out[32], kj_err *err);

/* "sha256//BASE64" of a 32-byte hash into out (at least 60 bytes). */
void kj_pin_format(const unsigned char hash[32], char *out, size_t size);

/* The secret as 20 lowercase hex digits (for the Authorization header). */
void kj_enrol_secret_hex(const unsigned char secret[KJ_ENROL_SECRET_LEN],
                         char out[KJ_ENROL_HEX_SIZE]);
/* 20 hex digits (either case) back into secret: KJ_OK or KJ_EINVAL. */
kj_code kj_enrol_secret_unhex(const char *hex, size_t len,
                              unsigned char secret[KJ_ENROL_SECRET_LEN]);

#endif
