/* actcode.h - activation codes: the one-time codes that let a person set
 * a PIN at an office PC (docs/operations.md "People and PINs").
 *
 * A code is 12 characters of an alphabet without look-alikes (no 0/O,
 * 1/I/L): "ABCDEFGHJKMNPQRSTUVWXYZ23456789", 31 symbols, about 59 bits,
 * shown in groups of four ("K7QM-3XPA-RW9D") to be read aloud and typed.
 * Only an Argon2id hash of the plain form (the 12 characters, no dashes:
 * common/passhash.h) is ever stored. */
#ifndef KJ_ACTCODE_H
#define KJ_ACTCODE_H

#include "err.h"

#define KJ_ACTCODE_LEN 12                                          /* characters of a code */
#define KJ_ACTCODE_SHOWN (KJ_ACTCODE_LEN + KJ_ACTCODE_LEN / 4 - 1) /* "ABCD-EFGH-JKLM" */

/* A fresh code from kj_random_bytes (uniform over the alphabet: bytes
 * past the largest multiple of 31 are drawn again).  plain gets the 12
 * characters and a NUL, shown the grouped form and a NUL.  KJ_OK, or
 * KJ_ECRYPTO when the random source fails (err says so). */
kj_code kj_actcode_make(char plain[KJ_ACTCODE_LEN + 1], char shown[KJ_ACTCODE_SHOWN + 1],
                        kj_err *err);

/* A code as a person typed it into its plain form: letters in either
 * case, dashes and spaces anywhere (ignored).  KJ_OK, or KJ_EINVAL with
 * "an activation code is 12 letters and digits, like ABCD-EFGH-JKMN" when
 * anything else is left (a character outside the alphabet, too short or
 * too long). */
kj_code kj_actcode_normalize(const char *typed, char plain[KJ_ACTCODE_LEN + 1], kj_err *err);

#endif
