/* kjs_enrol.h - enrolment codes on the server side (docs/protocol.md
 * "Enrolment"): making one for `kinerjad device add`, reading the
 * Authorization header of POST /v1/enrol, the seal of the token and the
 * limits on attempts.  The code's format is proto/enrol.h. */
#ifndef KJS_ENROL_H
#define KJS_ENROL_H

#include <stddef.h>
#include <stdint.h>

#include "enrol.h"
#include "err.h"
#include "store.h"

#define KJS_ENROL_VALID_MS (7LL * 24 * 3600 * 1000) /* a code lives 7 days */
#define KJS_ENROL_SCHEME "Enrol "                   /* Authorization: Enrol HEX */

/* The SHA-256 the store keeps for a code's secret (with a domain label, so
 * it is never the hash of anything else). */
void kjs_enrol_hash(const unsigned char secret[KJ_ENROL_SECRET_LEN], unsigned char out[32]);

/* Seal (or unseal: the same operation) len <= 128 bytes of a token with a
 * key stream derived from secret (SHA-256 with another domain label, per
 * 32-byte block): the database holds the token only under the code, and
 * the code only as its hash. */
void kjs_enrol_seal(const unsigned char secret[KJ_ENROL_SECRET_LEN], const unsigned char *in,
                    size_t len, unsigned char *out);

/* A new enrolment code for device (whose token is token, 64 hex digits),
 * valid KJS_ENROL_VALID_MS: its pin from the certificate in cert_file,
 * stored in st, written into code; *expires_ms when it expires.  KJ_ENOENT
 * when cert_file cannot be read, KJ_EINVAL when it holds no certificate,
 * KJ_ECRYPTO, KJ_EDB (err says which). */
kj_code kjs_enrol_issue(kjs_store *st, const char *cert_file, const char *device, const char *token,
                        char code[KJ_ENROL_CODE_SIZE], int64_t *expires_ms, kj_err *err);

/* An Authorization header value of the Enrol scheme into secret: KJ_OK;
 * KJ_ENOENT when it is not that scheme (NULL too); KJ_EAUTH when it is but
 * malformed (err says so). */
kj_code kjs_enrol_header(const char *authorization, unsigned char secret[KJ_ENROL_SECRET_LEN],
                         kj_err *err);

/* The limits on attempts (process-wide, thread-safe):
 *  - failed codes at the headers (the network layer does not tell the
 *    address there): at most KJS_ENROL_FAIL_MAX a minute in all, then
 *    every enrolment is refused until the minute is over;
 *  - enrolments reaching the handler: at most KJS_ENROL_ADDR_MAX per
 *    address in 10 minutes.
 * Each returns 1 when the attempt may go on, else 0 with *retry_s. */
#define KJS_ENROL_FAIL_MAX 30
#define KJS_ENROL_ADDR_MAX 10
int kjs_enrol_fail_allowed(int64_t now_ms, int *retry_s);
void kjs_enrol_fail_note(int64_t now_ms);
int kjs_enrol_addr_allowed(const char *remote, int64_t now_ms, int *retry_s);

#endif
