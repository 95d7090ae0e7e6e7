/* person.h - the people who sign in at an office PC with a PIN
 * (domain.md "Who may write what": a device vouches for the people it
 * signed in; docs/operations.md "People and PINs").
 *
 * A person is an employee on the roster of this PC's office.  The BKD
 * makes an activation code (`kinerjad person activate NIP`); its hash
 * reaches this PC as an `activation` master record with the next sync.
 * With it the person sets a PIN here (kjc_person_setup); afterwards the
 * PIN signs them in (kjc_person_signin), so that the changes they make
 * carry their NIP as author.  PINs and codes are only stored as Argon2id
 * hashes (common/passhash.h) in the table persons (client/store.h).
 *
 * Lockout: KJC_PIN_TRIES wrong PINs or codes in a row lock the person
 * for KJC_PIN_LOCK_MS; the count and the lock are in the database, so a
 * new process does not reset them; while locked even the right PIN is
 * refused.  Times are ms since the epoch by the server's clock
 * (kjc_store_now_ms).  The Argon2id check costs about 40 ms per try.
 *
 * Each call runs in a transaction of its own (BEGIN IMMEDIATE), committed
 * also when the answer is a wrong PIN, so that the count is kept: call them
 * outside of a transaction (inside one they join it, and a rollback by the
 * caller forgets the try). */
#ifndef KJC_PERSON_H
#define KJC_PERSON_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "store.h"

#define KJC_PIN_MIN 6                      /* digits */
#define KJC_PIN_MAX 32                     /* digits */
#define KJC_PIN_TRIES 5                    /* wrong tries before the lock */
#define KJC_PIN_LOCK_MS (15LL * 60 * 1000) /* how long the lock lasts */

/* What a refused sign-in or setup tells besides its message. */
typedef struct kjc_signin {
  int tries_left;          /* after a wrong PIN or code: tries before the lock */
  int64_t locked_until_ms; /* > 0: locked until then (also when this try locked it) */
} kjc_signin;

/* A new PIN: KJC_PIN_MIN..KJC_PIN_MAX digits, else KJ_EINVAL "a PIN is 6
 * to 32 digits". */
kj_code kjc_pin_check(const char *pin, kj_err *err);

/* Sign nip in with pin.  KJ_OK: nip may act as author.  info (may be NULL)
 * is filled on every answer.  Errors, each with a message naming nip:
 *   KJ_EINVAL  nip is not a NIP
 *   KJ_ENOENT  nip is not on the roster of this office, or has no PIN here
 *              yet ("... 'kinerja person setup NIP' with the activation code")
 *   KJ_EAUTH   wrong PIN ("wrong PIN for NIP: 3 tries left before a
 *              15-minute lock"), or locked ("NIP is locked after 5 wrong
 *              tries until 2026-11-30 11:47 WIB"), info says which
 *   KJ_ECRYPTO, KJ_ENOMEM, KJ_EDB, KJ_EFULL, KJ_EBUSY */
kj_code kjc_person_signin(kjc_store *s, const char *nip, const char *pin, kjc_signin *info,
                          kj_err *err);

/* Whether nip can sign in at this PC now, asked before the PIN is typed:
 * on the roster of this office, a PIN set here, not locked.  Nothing is
 * counted or written.  KJ_OK; else the error kjc_person_signin would give
 * for any PIN, with its message naming nip: KJ_EINVAL (not a NIP),
 * KJ_ENOENT (not on the roster, no PIN here yet: "... 'kinerja person
 * setup NIP' ..."), KJ_EAUTH (locked: info->locked_until_ms set); KJ_EDB,
 * KJ_ENOMEM.  info (may be NULL) is filled on every answer. */
kj_code kjc_person_can_signin(kjc_store *s, const char *nip, kjc_signin *info, kj_err *err);

/* Whether nip can set a PIN at this PC now: on the roster of this office
 * and an activation for nip has reached it (asked before the code and the
 * PIN are typed).  KJ_OK; KJ_ENOENT (not on the roster, no activation:
 * the message says what to do); KJ_EINVAL (not a NIP); KJ_EDB, KJ_ENOMEM. */
kj_code kjc_person_can_setup(kjc_store *s, const char *nip, kj_err *err);

/* Set nip's PIN with the activation code from the BKD (typed in any case,
 * dashes and spaces ignored: common/actcode.h).  Refused, PIN unchanged:
 *   KJ_EINVAL  not a NIP, a PIN that breaks kjc_pin_check, a code of the
 *              wrong shape (no try counted)
 *   KJ_ENOENT  not on the roster of this office, or no activation for nip
 *              has reached this PC ("ask the BKD ..., then kinerja sync")
 *   KJ_EAUTH   a wrong code (counts as a wrong try, like a PIN), an
 *              expired code, a code used already, or locked
 *   KJ_ECRYPTO, KJ_ENOMEM, KJ_EDB, KJ_EFULL, KJ_EBUSY
 * A code sets a PIN once at this PC (a PC cannot tell another PC that
 * it was used: the code is valid at each PC of the office until it
 * expires, docs/operations.md "People and PINs"); a new activation (a
 * forgotten PIN) sets it again. */
kj_code kjc_person_setup(kjc_store *s, const char *nip, const char *code, const char *pin,
                         kjc_signin *info, kj_err *err);

/* One person of this office's roster, for `kinerja person list`. */
typedef struct kjc_person_view {
  const char *nip, *name;  /* name may be NULL */
  int has_pin;             /* a PIN is set */
  int64_t pin_set_ms;      /* when, 0 = never */
  int64_t locked_until_ms; /* > now: locked */
  int64_t code_expires_ms; /* an activation waiting here (not used yet), 0 = none */
} kjc_person_view;
/* Call fn for every live employee of this office, by nip; fn returns
 * non-zero to stop.  KJ_EDB, KJ_ENOMEM. */
kj_code kjc_person_each(kjc_store *s, int (*fn)(void *ud, const kjc_person_view *p), void *ud,
                        kj_err *err);

/* ms (server clock) as "2026-11-30 11:47 WIB" in the time zone of this
 * PC's office (its `timezone`: WIB, WITA or WIT; WIB when unknown). */
void kjc_office_time(kjc_store *s, int64_t ms, char *out, size_t size);

#endif
